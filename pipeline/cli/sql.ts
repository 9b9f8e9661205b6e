import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { type Command, Option } from 'commander';
import { readEnv } from '../config/index.ts';
import { formatArrow, formatCsv, formatJson, formatTable, SQL_FORMATS, type SqlFormat, runQuery } from '../transform/index.ts';
import { UsageError } from '../util/errors.ts';
import { prepareLakeForReading } from '../store/index.ts';

/** The path with symlinks resolved as far as it exists (the file itself may not exist yet). */
function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPathOf(parent), basename(path));
  }
}

/** True when `path` is `dir` or lies inside it, symlinks resolved. */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(realPathOf(resolve(dir)), realPathOf(resolve(path)));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * With the lake in a bucket, the local copy is brought up to date before the query: the copy is
 * the one thing under the data directory `sql` may write. On a read-only data directory it reads
 * the copy as it is, and says so.
 */
async function refreshLakeCopy(dataDir: string): Promise<void> {
  try {
    await prepareLakeForReading({ dataDir });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw err;
    process.stderr.write(`cdrpipe: the data directory is read-only: querying the lake copy as last refreshed (${code})\n`);
  }
}

/** `cdrpipe sql "<query>" [--format table|csv|json|arrow] [--raw] [--out FILE]`: read-only SQL over the warehouse (or the lake). */
export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('run SQL over the warehouse models (read-only), or over the lake view `cdrs` before the first transform')
    .argument('<query>', 'e.g. "SELECT * FROM usage_monthly ORDER BY domain"')
    .addOption(
      new Option('--format <format>', 'output format; arrow writes an Arrow IPC stream').choices([...SQL_FORMATS]).default('table'),
    )
    .option('--raw', 'with --format csv: text exactly as stored (no formula escaping), for programs rather than spreadsheets')
    .option('--out <file>', 'write to this file instead of stdout (not inside the data directory)')
    .addHelpText(
      'after',
      `
Read-only: SELECT statements only (also FROM …, WITH …, VALUES, DESCRIBE, SHOW, SUMMARIZE); files
outside the lake cannot be opened. Nothing under the data directory changes, and it may be read-only.
CSV is RFC 4180 and formula-safe: text starting with = + - @ TAB or CR gets a leading ' so a
spreadsheet shows it instead of running it; numeric columns are written as plain numbers.

Examples:
  cdrpipe sql "SELECT domain, local_month, calls, charge FROM usage_monthly ORDER BY 1, 2"
  cdrpipe sql "SELECT * FROM rated_calls WHERE local_month = '2026-10'" --format csv --out oct.csv
  cdrpipe sql "SELECT id, raw FROM cdrs" --format csv --raw --out cdrs.csv   # bytes as stored
  cdrpipe sql "SELECT * FROM rated_calls" --format arrow --out calls.arrows   # pyarrow.ipc.open_stream / polars.read_ipc_stream
`,
    )
    .action(async (query: string, opts: { format: SqlFormat; raw?: boolean; out?: string }) => {
      const dataDir = resolve(readEnv().dataDir);
      if (opts.raw && opts.format !== 'csv') throw new UsageError(`--raw: applies to --format csv only (got --format ${opts.format})`);
      if (opts.out && isInside(opts.out, dataDir)) {
        throw new UsageError(
          `--out ${JSON.stringify(opts.out)}: is inside the data directory ${dataDir}, which cdrpipe sql never changes; write the file elsewhere`,
        );
      }
      await refreshLakeCopy(dataDir);
      const result = await runQuery({ dataDir, sql: query });
      const body: string | Uint8Array =
        opts.format === 'arrow'
          ? formatArrow(result)
          : opts.format === 'csv'
            ? formatCsv(result, { raw: opts.raw })
            : opts.format === 'json'
              ? formatJson(result)
              : formatTable(result);
      if (opts.out) await writeFile(opts.out, body);
      else process.stdout.write(body);
    });
}
