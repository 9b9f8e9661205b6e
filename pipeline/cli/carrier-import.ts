import { withLakeAccess } from './lake-access.ts';
import type { Command } from 'commander';
import { importCarrierFile, type CarrierImportResult } from '../carrier/index.ts';
import { loadRuntime } from '../schedule/index.ts';

/** The terminal summary of one import. */
export function formatCarrierImport(r: CarrierImportResult): string {
  const head = `carrier ${r.carrier}: ${r.file} (sha256 ${r.sha256.slice(0, 12)})\n`;
  if (r.unchanged) {
    return `${head}  already imported (same bytes): nothing changed (${r.loaded} records, ${r.rejected} rejected lines, months ${r.months.join(', ') || 'none'})\n`;
  }
  const lines = [
    head.trimEnd(),
    `  months    ${r.months.join(', ') || 'none'}`,
    `  loaded    ${r.loaded} records`,
    `  rejected  ${r.rejected} lines${r.rejected ? ' (kept with their reason in lake/carrier_rejects)' : ''}`,
    ...(r.skipped ? [`  skipped   ${r.skipped} unanswered attempts (no start time, nothing billed)`] : []),
    ...(r.replaced ? [`  replaced  ${r.replaced}`] : []),
    ...r.rejects.map((x) => `  line ${x.line}: ${x.reason}`),
    ...(r.rejected > r.rejects.length ? [`  … and ${r.rejected - r.rejects.length} more`] : []),
  ];
  return lines.join('\n') + '\n';
}

/** `cdrpipe carrier import <file> --carrier <name> [--month YYYY-MM] [--replaces <name|sha>] [--json]`. */
export function registerCarrierImport(carrier: Command): void {
  withLakeAccess('writes', carrier.command('import <file>'))
    .description(
      'load one carrier CDR file (CSV/TSV, gzip accepted) into lake/carrier_cdrs; rejected lines go to lake/carrier_rejects with their line number and reason',
    )
    .requiredOption('--carrier <name>', 'a carrier of jobs.config.ts carriers, or a built-in format: generic, didww, sinch')
    .option('--month <month>', 'reject lines whose start time is outside this UTC month, YYYY-MM')
    .option(
      '--replaces <name|sha>',
      'the earlier file this one corrects (its file name or SHA-256); by default a file with the same name covering the same month',
    )
    .option('--json', 'print the result as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .addHelpText(
      'after',
      `
The same bytes again change nothing. A header without the carrier's columns stops the import
(exit 2) naming the missing columns; nothing already imported is touched.
`,
    )
    .action(async (file: string, opts: { carrier: string; month?: string; replaces?: string; json?: boolean; config?: string }) => {
      const rt = await loadRuntime({ configPath: opts.config });
      const result = await importCarrierFile({
        dataDir: rt.dataDir,
        config: rt.config,
        clock: rt.clock,
        logger: rt.logger,
        file,
        carrier: opts.carrier,
        ...(opts.month ? { month: opts.month } : {}),
        ...(opts.replaces ? { replaces: opts.replaces } : {}),
      });
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatCarrierImport(result));
    });
}
