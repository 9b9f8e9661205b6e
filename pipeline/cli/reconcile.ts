import type { Command } from 'commander';
import { loadRuntime } from '../schedule/index.ts';
import { createSourceFromEnv } from '../source/index.ts';
import { formatReconcileTable, runReconcile } from '../transform/index.ts';
import { ReconcileMismatchError, UsageError } from '../util/errors.ts';
import { isMonth } from '../util/month.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `cdrpipe reconcile --month YYYY-MM [--domain D]... [--json]`: exit 3 naming the domains that are off. */
export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      "per domain, for its local month: lake vs the API's /cdrs/count (CDRs and seconds), duplicates, rejects, anomalies, billed totals; exit 3 when any domain is off",
    )
    .requiredOption('--month <month>', 'the customers’ local month, YYYY-MM')
    .option('--domain <domain>', 'only this domain (repeatable)', collect, [] as string[])
    .option('--json', 'print the result as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .addHelpText(
      'after',
      `
Writes <data dir>/reports/YYYY-MM/reconciliation.csv and the state table \`reconciliations\`.
Run \`cdrpipe transform\` first for current billed totals. Needs NS_API_URL and credentials.
`,
    )
    .action(async (opts: { month: string; domain: string[]; json?: boolean; config?: string }) => {
      if (!isMonth(opts.month)) throw new UsageError(`--month ${JSON.stringify(opts.month)}: expected YYYY-MM, e.g. 2026-10`);
      const rt = await loadRuntime({ configPath: opts.config });
      const source = createSourceFromEnv(rt.env, {
        clock: rt.clock,
        logger: rt.logger,
        concurrency: rt.config.ingest.concurrency,
        requestsPerSecond: rt.config.ingest.requestsPerSecond,
      });
      const result = await runReconcile({
        dataDir: rt.dataDir,
        config: rt.config,
        source,
        month: opts.month,
        ...(opts.domain.length ? { domains: opts.domain } : {}),
        logger: rt.logger,
        clock: rt.clock,
      });
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatReconcileTable(result));
      if (!result.ok) {
        throw new ReconcileMismatchError(
          `${result.off.length} domain(s) do not reconcile for ${result.month}: ${result.off.map((o) => `${o.domain} (${o.detail})`).join('; ')}`,
          result.off.map((o) => o.domain),
        );
      }
    });
}
