import { withLakeAccess } from './lake-access.ts';
import type { Command } from 'commander';
import { JOB_TASKS } from '../config/index.ts';
import { createRealStages, runJob, loadRuntime, createTaskRegistry } from '../schedule/index.ts';
import { createSourceFromEnv } from '../source/index.ts';
import { EXIT, UsageError } from '../util/errors.ts';

/** `cdrpipe run <job>`: one job of jobs.config.ts now, recorded like a scheduled run (trigger manual). */
export function registerRun(program: Command): void {
  withLakeAccess('writes', program.command('run'))
    .argument('<job>', 'a job name from jobs.config.ts, e.g. ingest, late-sweep, monthly-reports, reconcile, alerts')
    .description('run one job of jobs.config.ts now (recorded in the run log; exit 3 when reconciliation finds a domain off)')
    .option('--json', 'print the run result as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .action(async (jobName: string, opts: { json?: boolean; config?: string }) => {
      const rt = await loadRuntime({ configPath: opts.config });
      if (!rt.config.jobs[jobName]) {
        throw new UsageError(
          `no job named ${JSON.stringify(jobName)} in jobs.config.ts; jobs: ${Object.keys(rt.config.jobs).join(', ')} (tasks: ${JOB_TASKS.join(', ')})`,
        );
      }
      // Fail fast (exit 2) when NS_API_URL or credentials are missing, rather than failing every run
      // (alerts read only the lake).
      if (rt.config.jobs[jobName]!.task !== 'alerts') createSourceFromEnv(rt.env);
      const stages = createRealStages(rt);
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        if (abort.signal.aborted) process.exit(EXIT.interrupted);
        rt.logger.warn(
          { signal: sig },
          'stopping: no new work; requests still in flight after a few seconds are cut off and left for the next run (signal again to exit at once)',
        );
        abort.abort(new Error(`received ${sig}`));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const result = await runJob({
          jobName,
          registry: createTaskRegistry(stages),
          trigger: 'manual',
          dataDir: rt.dataDir,
          config: rt.config,
          env: rt.env,
          clock: rt.clock,
          logger: rt.logger,
          signal: abort.signal,
          alerter: stages.alerter,
        });
        const seconds = ((result.endedAt.getTime() - result.startedAt.getTime()) / 1000).toFixed(1);
        if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        else {
          const counts = [
            result.outcome?.rows !== undefined ? `${result.outcome.rows} rows` : undefined,
            result.outcome?.requests !== undefined ? `${result.outcome.requests} requests` : undefined,
          ].filter(Boolean);
          process.stdout.write(
            `${jobName}: ${result.status} in ${seconds}s${counts.length ? ` (${counts.join(', ')})` : ''}` +
              `${result.outcome?.message ? ` — ${result.outcome.message}` : ''}${result.error ? ` — ${result.error}` : ''}\n`,
          );
        }
        process.exitCode = result.exitCode;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
