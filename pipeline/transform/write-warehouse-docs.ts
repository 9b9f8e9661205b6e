/**
 * `npm run docs:warehouse`: regenerates docs/warehouse.md from the model descriptions
 * (transform/warehouse-docs.ts). With --check it only says whether the file is up to date (exit 1 if not).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveProjectPath } from '../config/index.ts';
import { LAKE_COLUMNS } from '../lake/index.ts';
import { loadSqlProject } from './sql-project.ts';
import { renderWarehouseDocs } from './warehouse-docs.ts';

/** The page as the project's SQL and descriptions say it should read. */
export async function expectedWarehouseDocs(): Promise<string> {
  const modelsDir = resolveProjectPath('reports/models');
  const project = await loadSqlProject({ modelsDir, testsDir: join(modelsDir, 'tests') });
  return renderWarehouseDocs({ ...project, lakeColumns: LAKE_COLUMNS });
}

export const WAREHOUSE_DOCS = 'docs/warehouse.md';

async function main(argv: readonly string[]): Promise<number> {
  const path = resolveProjectPath(WAREHOUSE_DOCS);
  const want = await expectedWarehouseDocs();
  if (argv.includes('--check')) {
    const have = await readFile(path, 'utf8').catch(() => '');
    if (have === want) return 0;
    process.stderr.write(`${WAREHOUSE_DOCS} is out of date with reports/models: run npm run docs:warehouse\n`);
    return 1;
  }
  await writeFile(path, want);
  process.stdout.write(`wrote ${WAREHOUSE_DOCS}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
