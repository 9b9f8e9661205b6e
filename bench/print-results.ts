/**
 * Prints a results file as the Markdown the README quotes: the table, the machine, the command.
 *   npx tsx bench/print-results.ts [bench/results.json]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formatTable } from './lib/table.ts';
import type { BenchReport } from './lib/types.ts';

const file = process.argv[2] ?? fileURLToPath(new URL('./results.json', import.meta.url));
const report = JSON.parse(await readFile(file, 'utf8')) as BenchReport;
const m = report.machine;
const minutes = ((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 60_000).toFixed(1);
process.stdout.write(
  `${formatTable(report.results)}\n\n` +
    `Measured ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC with \`${report.command}\` (${minutes} min): ` +
    `${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}, DuckDB ${m.duckdb}.\n` +
    (report.notes.length > 0 ? `\n${report.notes.map((n) => `- ${n}`).join('\n')}\n` : ''),
);
