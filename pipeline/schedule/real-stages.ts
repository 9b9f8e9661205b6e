import type { EnvConfig } from '../config/env.ts';
import { createSourceFromEnv } from '../source/from-env.ts';
import type { CdrSource } from '../source/types.ts';
import type { Logger } from '../util/logger.ts';
import type { Clock } from '../util/clock.ts';
import { runTransform } from '../transform/run-transform.ts';
import { createMailAlerter } from './mail-alerter.ts';
import type { Alerter } from './job-types.ts';
import type { Stages } from './tasks.ts';

/** Loads a stage module that may not have landed yet, with a message that says which. */
async function stageModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(path)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`the stage module ${path} could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

type AnyFn = (opts: Record<string, unknown>) => Promise<Record<string, unknown>>;

async function stageFn(path: string, name: string): Promise<AnyFn> {
  const mod = await stageModule(path);
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`${path} does not export ${name}()`);
  return fn as AnyFn;
}

/**
 * Binds the jobs to the real stage modules. `source` overrides the env-built source (the demo
 * passes one built from the simulator's URL).
 */
export function createRealStages(
  rt: { env: EnvConfig; logger: Logger; dataDir: string; clock: Clock },
  opts: { source?: () => CdrSource; alerter?: Alerter } = {},
): Stages {
  return {
    alerter: opts.alerter ?? createMailAlerter({ env: rt.env, dataDir: rt.dataDir, clock: rt.clock }),
    createSource: async (ctx) => ({
      source:
        opts.source?.() ??
        createSourceFromEnv(ctx.env, {
          clock: ctx.clock,
          logger: ctx.logger,
          concurrency: ctx.config.ingest.concurrency,
          requestsPerSecond: ctx.config.ingest.requestsPerSecond,
        }),
    }),
    ingest: async (ctx, source, range, onProgress) => {
      const runIngest = await stageFn('../extract/run-ingest.ts', 'runIngest');
      return runIngest({
        dataDir: ctx.dataDir,
        config: ctx.config,
        source,
        clock: ctx.clock,
        logger: ctx.logger,
        signal: ctx.signal,
        ...(range ? { from: range.from, to: range.to } : {}),
        onProgress,
      });
    },
    transform: async (ctx) => {
      const summary = await runTransform({ dataDir: ctx.dataDir, config: ctx.config, logger: ctx.logger, clock: ctx.clock, signal: ctx.signal });
      return { failedTests: summary.status === 'failed' ? summary.failedTests : [], summary };
    },
    reconcile: async (ctx, source, month) => {
      const runReconcile = await stageFn('../transform/reconcile.ts', 'runReconcile');
      const summary = await runReconcile({ dataDir: ctx.dataDir, config: ctx.config, source, month, logger: ctx.logger, clock: ctx.clock, signal: ctx.signal });
      return { month, off: [], domains: 0, summary };
    },
    reports: async (ctx, month) => {
      const runReports = await stageFn('../report/run-reports.ts', 'runReports');
      return runReports({ dataDir: ctx.dataDir, config: ctx.config, env: ctx.env, month, send: true, force: false, dryRun: false, logger: ctx.logger, clock: ctx.clock, signal: ctx.signal });
    },
  };
}
