import type { Command } from 'commander';
import { formatStatus, gatherStatus, loadRuntime } from '../schedule/index.ts';

/** `cdrpipe status [--json]`: last runs, next runs, watermarks and lag, lake size, anomalies, unsent reports. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('last and next runs per job, per-domain watermarks and lag, lake size, rejects, open anomalies, unsent reports')
    .option('--json', 'print the status as JSON (for scripts and monitoring)')
    .option('--domains <n>', 'how many domains (most lagging first) to list', '10')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .action(async (opts: { json?: boolean; domains: string; config?: string }) => {
      const rt = await loadRuntime({ configPath: opts.config });
      const status = await gatherStatus({ dataDir: rt.dataDir, config: rt.config, clock: rt.clock });
      process.stdout.write(
        opts.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status, { maxDomains: Math.max(1, Number(opts.domains) || 10) }),
      );
    });
}
