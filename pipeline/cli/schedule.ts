import { withLakeAccess } from './lake-access.ts';
import type { Command } from 'commander';
import { EXIT } from '../util/errors.ts';
import { createRealStages, loadRuntime, startScheduler, createTaskRegistry } from '../schedule/index.ts';
import { createSourceFromEnv } from '../source/index.ts';

/** `cdrpipe schedule`: the long-running scheduler for every enabled job of jobs.config.ts. */
export function registerSchedule(program: Command): void {
  withLakeAccess('writes', program.command('schedule'))
    .description('run every enabled job of jobs.config.ts on its cron schedule until SIGTERM/SIGINT (one scheduler per data directory)')
    .option('--no-catch-up', 'do not run ticks missed while the scheduler was down')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .option('--standby', 'with the lake in a bucket: wait for the scheduler lease and take over when its holder stops renewing it')
    .action(async (opts: { catchUp: boolean; config?: string; standby?: boolean }) => {
      const rt = await loadRuntime({ configPath: opts.config });
      // Fail fast (exit 2) when NS_API_URL or credentials are missing, rather than failing every run.
      createSourceFromEnv(rt.env);
      const stages = createRealStages(rt);
      // LockHeldError (exit 1) when another scheduler holds this data directory.
      const scheduler = await startScheduler({
        dataDir: rt.dataDir,
        config: rt.config,
        env: rt.env,
        registry: createTaskRegistry(stages),
        clock: rt.clock,
        logger: rt.logger,
        alerter: stages.alerter,
        catchUp: opts.catchUp,
        standby: opts.standby ?? false,
      });
      let stopping = false;
      const onSignal = (sig: NodeJS.Signals) => {
        if (stopping) {
          rt.logger.warn({ signal: sig }, 'second signal: exiting now; the lake stays consistent (files appear only complete)');
          process.exit(EXIT.interrupted);
        }
        stopping = true;
        void scheduler.stop(`received ${sig}`);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      for (const n of scheduler.nextRuns()) rt.logger.info({ job: n.job, next: n.at.toISOString() }, 'next run');
      await scheduler.stopped;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
}
