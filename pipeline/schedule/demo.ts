import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { CdrpipeConfig, EnvConfig, StageContext } from '../config/index.ts';
import { cdrsDir, outboxDir, reportsDir } from '../lake/index.ts';
import { NetSapiensClient } from '../source/index.ts';
import { fraudScenario, startSimulator, type FaultOptions, type RunningSimulator } from '../simulator/index.ts';
import { alertJson, listAlerts, type AlertJson } from '../alerts/index.ts';
import type { Month } from '../util/month.ts';
import type { JobProgress } from './job-types.ts';
import { createRealStages } from './real-stages.ts';
import { runJob, type JobRunResult } from './run-job.ts';
import { lakeSize, type LakeSize } from './status-report.ts';
import { monthlyReportPlan } from './task-ranges.ts';
import { createTaskRegistry, type Stages } from './tasks.ts';
import { demoCarrierFiles, importDemoCarrierFile, reconcileDemoCarrier, withDemoCarrier, type DemoCostSide } from './demo-cost.ts';

/** The demo's simulated PBX: a few dozen customers, realistic volume, some faults on. */
export interface DemoSimulatorSettings {
  seed: number;
  domains: number;
  volume: number;
  faults: FaultOptions;
}

export const DEMO_SIMULATOR: DemoSimulatorSettings = {
  seed: 2026,
  domains: 36,
  volume: 1,
  faults: {
    seed: 7,
    // A small share of 5xx, a few dropped connections, and 429s whenever a second gets busy.
    errorRate: 0.01,
    dropRate: 0.002,
    rateLimit: { requestsPerSecond: 60, retryAfterSeconds: 1 },
  },
};

export interface DemoOptions extends StageContext {
  env: EnvConfig;
  simulator?: Partial<DemoSimulatorSettings>;
  /** Where the simulated data ends; default the start of the current UTC day, so re-runs the same day see identical data. */
  dataTo?: Date;
  onProgress?: (p: JobProgress) => void;
  /** Override the stages (tests); default the real ones bound to the simulator. */
  stages?: (source: () => NetSapiensClient) => Stages;
}

/** With the lake in a bucket (`demo --s3`): where the bucket's objects were, for the summary. */
export interface DemoBucket {
  /** s3://cdrpipe-demo/lake/ */
  url: string;
  /** The server's address while it ran. */
  endpoint: string;
  /** The folder the server keeps the bucket's objects in. */
  serverDir: string;
  /** Objects and bytes under the prefix, from the bucket's listing at the end. */
  objects: number;
  bytes: number;
  /** Partition files (cdrs/) among them. */
  cdrObjects: number;
  /** PUTs made and uploads skipped (identical bytes), downloads into the local copy. */
  uploads: number;
  skippedUploads: number;
  downloads: number;
}

export interface DemoSummary {
  dataDir: string;
  month: Month;
  simulator: { url: string; domains: number; requests: number; faultsInjected: Record<string, number> };
  runs: JobRunResult[];
  lake: LakeSize;
  reportsDir: string;
  /** One customer's report.html, if any was rendered. */
  exampleReport: string | undefined;
  outbox: string;
  outboxFiles: number;
  /** The cost side: one simulated carrier's file for the month, reconciled. */
  cost: DemoCostSide | undefined;
  /** With an alerts job: the fraud the simulator was given, and the open alerts after the run. */
  alerts?: { injected: { domain: string; scenario: string; at: string; calls: number }; open: number; newest: AlertJson[] };
  /** With the lake in a bucket (`demo --s3`). */
  bucket?: DemoBucket;
  elapsedMs: number;
}

/**
 * Gives the first domain a hijacked extension the night before `dataTo` (07:00 UTC is night on
 * every US zone): the alerts job has something real to find, in the outbox and in status.
 * Same day, same calls: a re-run raises the same alerts, and sends nothing again.
 */
function injectDemoFraud(sim: RunningSimulator, dataTo: Date): NonNullable<DemoSummary['alerts']>['injected'] {
  const profile = sim.profiles()[0]!;
  const at = new Date(dataTo.getTime() - 17 * 3600_000);
  const s = fraudScenario(profile, { scenario: 'hijacked-extension', at, seed: 1 });
  sim.addCdrs(s.domain, s.records);
  return { domain: s.domain, scenario: s.scenario, at: at.toISOString(), calls: s.records.length };
}

async function countFiles(dir: string, suffix: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  return ((await readdir(dir, { recursive: true })) as string[]).filter((n) => n.endsWith(suffix)).length;
}

async function firstReport(dir: string): Promise<string | undefined> {
  if (!existsSync(dir)) return undefined;
  const names = ((await readdir(dir, { recursive: true })) as string[]).filter((n) => n.endsWith('report.html')).sort();
  return names[0] ? join(dir, names[0]) : undefined;
}

/**
 * `cdrpipe demo`: starts the simulator on a free loopback port, runs the monthly-reports job
 * against it (ingest of the previous month and the month to date, transform, data tests,
 * reconciliation, every customer's report and the billing report into the outbox), then the
 * month-to-date reconcile job. Runs are recorded like any manual run. Re-running is idempotent:
 * unchanged partitions are not rewritten and the send log keeps reports from going out twice.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const settings = { ...DEMO_SIMULATOR, ...opts.simulator };
  const now = opts.clock.now();
  const dataTo = opts.dataTo ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const sim = await startSimulator({
    port: 0,
    seed: settings.seed,
    domains: settings.domains,
    volume: settings.volume,
    dataTo,
    clock: opts.clock,
    faults: settings.faults,
  });
  try {
    // The demo's own source: the simulator's URL and a key; no NS_* variables needed.
    const source = () =>
      NetSapiensClient.create({
        baseUrl: sim.url,
        auth: { kind: 'api-key', apiKey: 'demo-key' },
        clock: opts.clock,
        logger: opts.logger,
        maxConcurrentRequests: opts.config.ingest.concurrency,
        retry: { baseDelayMs: 100, maxDelayMs: 2_000 },
      });
    const rt = { env: opts.env, logger: opts.logger, dataDir: opts.dataDir, clock: opts.clock };
    const stages = opts.stages ? opts.stages(source) : createRealStages(rt, { source });
    const registry = createTaskRegistry(stages);
    const runs: JobRunResult[] = [];
    // The first (incremental) ingest reaches back to a day before the 1st of the month before the
    // previous one, so the reports' month-over-month comparison sets the previous month against a
    // complete month, not a few stray days. Later runs go on from the watermarks it sets.
    const backfillFrom = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1) - 86_400_000;
    const initialBackfillDays = Math.max(opts.config.ingest.initialBackfillDays, Math.ceil((now.getTime() - backfillFrom) / 86_400_000));
    const month = monthlyReportPlan({
      tick: now,
      now,
      timeZone: Object.values(opts.config.jobs).find((j) => j.task === 'monthly-reports')?.timeZone ?? opts.config.reseller.timeZone,
      settleMinutes: 0,
    }).month;
    // The cost side's carrier bills on the simulator's price list (its buy deck).
    const carrierFiles = demoCarrierFiles(opts.dataDir, month);
    const config: CdrpipeConfig = withDemoCarrier(
      { ...opts.config, ingest: { ...opts.config.ingest, initialBackfillDays } },
      carrierFiles.priceList,
    );
    const common = {
      registry,
      trigger: 'manual' as const,
      dataDir: opts.dataDir,
      config,
      env: opts.env,
      clock: opts.clock,
      logger: opts.logger,
      signal: opts.signal,
      alerter: stages.alerter,
      onProgress: opts.onProgress,
    };
    const monthlyJob = Object.entries(opts.config.jobs).find(([, j]) => j.task === 'monthly-reports')?.[0];
    const reconcileJob = Object.entries(opts.config.jobs).find(([, j]) => j.task === 'reconcile')?.[0];
    const ingestJob = Object.entries(opts.config.jobs).find(([, j]) => j.task === 'ingest')?.[0];
    const alertsJob = Object.entries(opts.config.jobs).find(([, j]) => j.task === 'alerts')?.[0];
    const injected = alertsJob ? injectDemoFraud(sim, dataTo) : undefined;
    if (!monthlyJob) throw new Error('jobs.config.ts has no job with task "monthly-reports": the demo runs that job');
    // The incremental ingest first: it sets each domain's watermark (a backfill leaves them alone),
    // so `cdrpipe status` and the scheduler carry on from here.
    // Each step needs the one before: stop at the first failure and show it.
    // The alerts job is beside the chain, not in it: reports do not need it.
    const goOn = () => !opts.signal?.aborted && runs.every((r) => r.jobName === alertsJob || r.status === 'ok' || r.status === 'mismatch');
    if (ingestJob) runs.push(await runJob({ ...common, jobName: ingestJob }));
    // The carrier's file goes into the lake before the monthly job builds the warehouse, so the
    // billing report has its cost section. A cost-side failure is shown, and the rest goes on.
    const ctx = { dataDir: opts.dataDir, config, clock: opts.clock, logger: opts.logger, ...(opts.signal ? { signal: opts.signal } : {}) };
    let costError: string | undefined;
    if (goOn()) {
      opts.onProgress?.({ phase: 'carrier file' });
      await importDemoCarrierFile(ctx, settings, month).catch((err: unknown) => {
        costError = err instanceof Error ? err.message : String(err);
      });
    }
    // As the scheduler does: alerts right after the ingest.
    if (alertsJob && goOn()) {
      opts.onProgress?.({ phase: 'alerts' });
      runs.push(await runJob({ ...common, jobName: alertsJob }));
    }
    if (goOn()) runs.push(await runJob({ ...common, jobName: monthlyJob }));
    if (reconcileJob && goOn()) {
      opts.onProgress?.({ phase: 'reconcile month to date' });
      runs.push(await runJob({ ...common, jobName: reconcileJob }));
    }
    let cost: DemoCostSide | undefined;
    if (costError === undefined && goOn()) {
      opts.onProgress?.({ phase: 'carrier reconcile' });
      cost = await reconcileDemoCarrier(ctx, month, carrierFiles).catch((err: unknown) => ({
        carrier: 'generic',
        month,
        ...carrierFiles,
        margins: [],
        error: err instanceof Error ? err.message : String(err),
      }));
    } else if (costError !== undefined) {
      cost = { carrier: 'generic', month, ...carrierFiles, margins: [], error: costError };
    }
    const stats = sim.stats();
    const open = injected ? await listAlerts(opts.dataDir, { open: true, limit: 3 }) : undefined;
    return {
      dataDir: opts.dataDir,
      month,
      simulator: { url: sim.url, domains: settings.domains, requests: stats.requests, faultsInjected: { ...stats.faultsInjected } },
      runs,
      lake: await lakeSize(cdrsDir(opts.dataDir)),
      reportsDir: reportsDir(opts.dataDir, month),
      exampleReport: await firstReport(reportsDir(opts.dataDir, month)),
      outbox: outboxDir(opts.dataDir),
      outboxFiles: await countFiles(outboxDir(opts.dataDir), '.eml'),
      cost,
      ...(injected && open ? { alerts: { injected, open: open.open, newest: open.alerts.map(alertJson) } } : {}),
      elapsedMs: Date.now() - started,
    };
  } finally {
    await sim.close();
  }
}

/** A path as the user should type it: relative to the working directory when inside it. */
function shown(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : resolve(p);
}

/** The cost side's lines: the carrier file reconciled, the lowest margins, the dispute file. */
function formatDemoCost(c: DemoCostSide | undefined): string[] {
  if (!c) return [];
  if (c.error !== undefined)
    return [`  cost side  carrier ${c.carrier} ${c.month}: not finished — ${c.error.split('\n')[0]!.slice(0, 300)}`];
  const l = c.line;
  if (!l) return [`  cost side  carrier ${c.carrier} ${c.month}: no records`];
  const out = [
    `  cost side  carrier ${c.carrier}, UTC month ${c.month}: ${l.records} records from ${shown(c.file)} — ${l.matched} matched, ` +
      `${l.duration_dispute} duration and ${l.cost_dispute} cost disputes, ${l.carrier_only} phantoms, ${l.pbx_only} of our calls missing; ` +
      `charged ${l.carrier_cost}, expected ${l.expected_cost}, disputed ${l.disputed_amount}`,
  ];
  if (c.margins.length > 0) {
    out.push('  margin     lowest first (revenue - carrier cost, the month):');
    const w = Math.max(...c.margins.map((m) => m.domain.length));
    for (const m of c.margins)
      out.push(
        `             ${m.domain.padEnd(w)}  revenue ${m.revenue.padStart(9)}  cost ${m.cost.padStart(8)}  margin ${m.margin.padStart(9)}  ${m.margin_pct === null ? '' : `${m.margin_pct} %`}`,
      );
  }
  if (c.disputeFile) out.push(`  disputes   ${shown(c.disputeFile)}`);
  return out;
}

/** The closing summary: what happened, what to open, what to try. */
export function formatDemoSummary(s: DemoSummary, opts: { defaultDataDir: string }): string {
  const data = shown(s.dataDir);
  // The commands find the demo's data only if it is where they look by default.
  const envPrefix = resolve(s.dataDir) === resolve(opts.defaultDataDir) ? '' : `CDRPIPE_DATA_DIR=${data} `;
  const lines: string[] = [''];
  lines.push(`cdrpipe demo finished in ${(s.elapsedMs / 1000).toFixed(1)} s — data directory ${data}/`);
  lines.push(
    `  simulator  ${s.simulator.domains} customer domains at ${s.simulator.url}, ${s.simulator.requests} requests served` +
      `, faults injected: ${
        Object.entries(s.simulator.faultsInjected)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none'
      }`,
  );
  for (const r of s.runs) {
    const secs = ((r.endedAt.getTime() - r.startedAt.getTime()) / 1000).toFixed(1);
    const error = r.error ? r.error.split('\n')[0]!.slice(0, 400) : undefined;
    lines.push(
      `  job        ${r.jobName}: ${r.status} in ${secs} s${r.outcome?.message ? ` — ${r.outcome.message}` : ''}${error ? ` — ${error}` : ''}`,
    );
  }
  lines.push(`  lake       ${s.lake.files} parquet files, ${s.lake.rows} CDRs, ${(s.lake.bytes / 1024 / 1024).toFixed(1)} MiB`);
  if (s.bucket) {
    const b = s.bucket;
    lines.push(
      `  bucket     ${b.url} on the local S3 server at ${b.endpoint} (stopped now): ${b.objects} objects (${b.cdrObjects} partitions), ` +
        `${(b.bytes / 1024 / 1024).toFixed(1)} MiB; this run uploaded ${b.uploads}, skipped ${b.skippedUploads} unchanged, downloaded ${b.downloads}`,
    );
    lines.push(`             the server keeps the objects in ${shown(b.serverDir)}/; ${shown(cdrsDir(s.dataDir))}/ is the local copy`);
  }
  lines.push(...formatDemoCost(s.cost));
  if (s.alerts) {
    const i = s.alerts.injected;
    lines.push(`  alerts     ${s.alerts.open} open, after a hijacked extension was simulated in ${i.domain} at ${i.at} (${i.calls} calls)`);
    for (const a of s.alerts.newest) lines.push(`             ${a.id} ${a.severity} ${a.rule}: ${a.message}`);
  }
  lines.push('', 'Open:');
  if (s.exampleReport) lines.push(`  a customer's report    ${shown(s.exampleReport)}`);
  lines.push(`  all reports for ${s.month}  ${shown(s.reportsDir)}/`);
  lines.push(`  the outbox (${s.outboxFiles} .eml)   ${shown(s.outbox)}/`);
  lines.push(`  the lake${s.bucket ? ' (local copy) ' : '              '} ${shown(cdrsDir(s.dataDir))}/`);
  lines.push('', 'Try:');
  lines.push(`  ${envPrefix}npx cdrpipe status`);
  if (s.cost?.line) lines.push(`  ${envPrefix}npx cdrpipe carrier reconcile --month ${s.cost.month}`);
  if (s.alerts) lines.push(`  ${envPrefix}npx cdrpipe alerts --open`);
  lines.push(
    `  ${envPrefix}npx cdrpipe sql "SELECT domain, calls, round(talk_s / 60) AS talk_min, charge FROM usage_monthly WHERE local_month = '${s.month}' ORDER BY charge DESC LIMIT 10"`,
  );
  lines.push(
    `  ${envPrefix}npx cdrpipe sql "SELECT call_class, count(*) AS calls, sum(charge) AS charge FROM rated_calls WHERE local_month = '${s.month}' GROUP BY 1 ORDER BY 3 DESC"`,
  );
  lines.push(
    `  duckdb -c "SELECT domain, count(*) AS calls, round(sum(talk_s) / 60) AS talk_min FROM read_parquet('${shown(cdrsDir(s.dataDir))}/**/*.parquet', hive_partitioning = true) WHERE month = '${s.month}' GROUP BY 1 ORDER BY 2 DESC LIMIT 10"`,
  );
  if (s.runs.some((r) => r.status === 'failed' || r.status === 'interrupted')) {
    lines.push(
      '',
      `Something did not finish: the log lines above say why; \`${envPrefix}npx cdrpipe status\` shows the runs. Re-running the demo continues where it stopped.`,
    );
  }
  lines.push(
    '',
    s.bucket
      ? 'Run it again: the server serves the same bucket again, nothing is re-sent and unchanged partitions are not uploaded again. ' +
          'The commands above read the local copy; with the server stopped they do not see the bucket.'
      : 'Run it again: nothing is re-sent and unchanged partitions are not rewritten. `npm start -- --fresh` starts over in a new data directory.',
  );
  return lines.join('\n') + '\n';
}
