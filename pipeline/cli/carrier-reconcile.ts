import type { Command } from 'commander';
import { CarrierDisputeError, carrierReconcileJson, formatCarrierReconcile, runCarrierReconcile } from '../carrier/index.ts';
import { loadRuntime } from '../schedule/index.ts';
import { UsageError } from '../util/errors.ts';
import { isMonth } from '../util/month.ts';

/** `cdrpipe carrier reconcile --month YYYY-MM [--carrier <name>] [--json]`: exit 3 when disputes exceed the thresholds. */
export function registerCarrierReconcile(carrier: Command): void {
  carrier
    .command('reconcile')
    .description(
      "match the carriers' records of a UTC month to the PBX's calls; write the dispute files; exit 3 over the dispute thresholds",
    )
    .requiredOption('--month <month>', 'the UTC month, YYYY-MM')
    .option('--carrier <name>', 'only this carrier')
    .option('--json', "print the contract's JSON object")
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .addHelpText(
      'after',
      `
Rebuilds the warehouse first (cdrpipe transform), so every imported carrier file counts.
Writes <data dir>/reports/YYYY-MM/carriers/<name>/disputes.csv per carrier.
Statuses: matched, duration_dispute, cost_dispute, carrier_only (phantom), pbx_only (missing).
By default any dispute or phantom exits 3 (carriers.<name>.disputeThresholds in jobs.config.ts).
`,
    )
    .action(async (opts: { month: string; carrier?: string; json?: boolean; config?: string }) => {
      if (!isMonth(opts.month)) throw new UsageError(`--month ${JSON.stringify(opts.month)}: expected YYYY-MM, e.g. 2026-10`);
      const rt = await loadRuntime({ configPath: opts.config });
      const result = await runCarrierReconcile({
        dataDir: rt.dataDir,
        config: rt.config,
        logger: rt.logger,
        clock: rt.clock,
        month: opts.month,
        ...(opts.carrier !== undefined ? { carrier: opts.carrier } : {}),
      });
      process.stdout.write(opts.json ? JSON.stringify(carrierReconcileJson(result)) + '\n' : formatCarrierReconcile(result));
      if (!result.ok) throw new CarrierDisputeError(result.over);
    });
}
