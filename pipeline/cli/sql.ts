import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { readEnv } from '../config/env.ts';
import { formatArrow, formatCsv, formatJson, formatTable, SQL_FORMATS, type SqlFormat } from '../transform/sql-output.ts';
import { runQuery } from '../transform/sql-query.ts';

/** `cdrpipe sql "<query>" [--format table|csv|json|arrow] [--out FILE]`: SQL over the warehouse (or the lake). */
export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('run SQL over the warehouse models (read-only), or over the lake view `cdrs` before the first transform')
    .argument('<query>', 'e.g. "SELECT * FROM usage_monthly ORDER BY domain"')
    .addOption(new Option('--format <format>', 'output format; arrow writes an Arrow IPC stream').choices([...SQL_FORMATS]).default('table'))
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  cdrpipe sql "SELECT domain, local_month, calls, charge FROM usage_monthly ORDER BY 1, 2"
  cdrpipe sql "SELECT * FROM rated_calls WHERE local_month = '2026-10'" --format csv --out oct.csv
  cdrpipe sql "SELECT * FROM rated_calls" --format arrow --out calls.arrows   # pyarrow.ipc.open_stream / polars.read_ipc_stream
`,
    )
    .action(async (query: string, opts: { format: SqlFormat; out?: string }) => {
      const dataDir = resolve(readEnv().dataDir);
      const result = await runQuery({ dataDir, sql: query });
      const body: string | Uint8Array =
        opts.format === 'arrow' ? formatArrow(result) : opts.format === 'csv' ? formatCsv(result) : opts.format === 'json' ? formatJson(result) : formatTable(result);
      if (opts.out) await writeFile(opts.out, body);
      else process.stdout.write(body);
    });
}
