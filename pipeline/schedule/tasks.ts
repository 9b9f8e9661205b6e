import type { CdrSource } from '../source/index.ts';
import type { Month } from '../util/month.ts';
import type { Alerter, JobContext, JobOutcome, JobProgress, TaskRegistry } from './job-types.ts';
import { lateSweepRange, localMonthOf, monthlyReportPlan, type IngestRange } from './task-ranges.ts';

/** What a stage hands back, as far as orchestration cares. */
export interface StageSummary {
  rows?: number;
  requests?: number;
  [key: string]: unknown;
}

/** Reconciliation result reduced to what the jobs act on. */
export interface ReconcileOutcome {
  month: Month;
  /** Domains that do not reconcile, with a line each for the alert. */
  off: { domain: string; detail: string }[];
  domains: number;
  /** API requests the check made. */
  requests?: number;
  summary: unknown;
}

/** The carrier-reconcile job's result reduced to what the job reports. */
export interface CarrierJobOutcome {
  imported: number;
  failed: number;
  /** "carrier month" per reconciliation run. */
  reconciled: string[];
  /** Carriers beyond their dispute thresholds, with why. */
  over: { carrier: string; detail: string }[];
  summary: unknown;
}

/** Transform result reduced to what the jobs act on. */
export interface TransformOutcome {
  /** Data tests that failed with error severity: reports are not sent on top of them. */
  failedTests: string[];
  summary: unknown;
}

/**
 * The pipeline stages as the jobs call them. `real-stages.ts` binds these to the stage modules;
 * tests pass small stand-ins. A source is created per run and closed after it.
 */
export interface Stages {
  createSource(ctx: JobContext): Promise<{ source: CdrSource; close?: () => Promise<void> | void }>;
  ingest(ctx: JobContext, source: CdrSource, range: IngestRange | undefined, onProgress?: (p: JobProgress) => void): Promise<StageSummary>;
  transform(ctx: JobContext): Promise<TransformOutcome>;
  reconcile(ctx: JobContext, source: CdrSource, month: Month): Promise<ReconcileOutcome>;
  reports(ctx: JobContext, month: Month): Promise<StageSummary>;
  /** Imports the carriers' inbox files and reconciles what they touched (the carrier-reconcile job). */
  carrierReconcile?(ctx: JobContext, opts: { carrier?: string; previousMonth: boolean }): Promise<CarrierJobOutcome>;
  /** Compacts closed months of the lake (lake-compact task); `minAgeDays` after a month's end it counts as closed. */
  compact?(ctx: JobContext, minAgeDays: number): Promise<StageSummary>;
  /** One live alert pass: evaluate what landed since the last, store, deliver; `message` is one line for the log. */
  alerts(ctx: JobContext): Promise<{ summary: StageSummary; message: string }>;
  /** Sends alerts to the billing team (reconciliation) and the operator (failures). */
  alerter?: Alerter;
}

async function withSource<T>(stages: Stages, ctx: JobContext, fn: (source: CdrSource) => Promise<T>): Promise<T> {
  const { source, close } = await stages.createSource(ctx);
  try {
    return await fn(source);
  } finally {
    await close?.();
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function optionNumber(ctx: JobContext, key: string, fallback: number): number {
  const v = ctx.job.options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new Error(`jobs.${ctx.jobName}.options.${key} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

async function alertBilling(stages: Stages, ctx: JobContext, rec: ReconcileOutcome): Promise<void> {
  const to = ctx.config.reseller.billingEmails;
  if (rec.off.length === 0 || to.length === 0 || !stages.alerter) return;
  const text = [
    `Reconciliation for ${rec.month}: ${rec.off.length} of ${rec.domains} domains do not reconcile (lake vs the PBX API).`,
    '',
    ...rec.off.map((o) => `  ${o.domain}: ${o.detail}`),
    '',
    `Re-check after the next ingest with: cdrpipe reconcile --month ${rec.month}`,
    `A late sweep re-reads recent days: cdrpipe run late-sweep`,
  ].join('\n');
  try {
    await stages.alerter.send({ to, subject: `[cdrpipe] reconciliation ${rec.month}: ${rec.off.length} domain(s) off`, text }, ctx.signal);
  } catch (err) {
    ctx.logger.error(
      { err: err instanceof Error ? err.message : String(err) },
      'could not send the reconciliation alert to the billing team',
    );
  }
}

/** "reports for 2026-10: 37 rendered, 37 sent, 0 already sent" from the report stage's counts. */
function describeDelivery(month: Month, rep: StageSummary): string {
  const d = rep.delivery as { sent?: unknown; skipped?: unknown; maybeSent?: unknown } | undefined;
  const parts = [typeof rep.reports === 'number' ? `${rep.reports} rendered` : undefined];
  if (d) {
    parts.push(`${num(d.sent) ?? 0} sent`, `${num(d.skipped) ?? 0} already sent`);
    if (num(d.maybeSent)) parts.push(`${num(d.maybeSent)} maybe sent (left for review)`);
  }
  const shown = parts.filter(Boolean).join(', ');
  return `reports for ${month}${shown ? `: ${shown}` : ' done'}`;
}

/**
 * The job registry composed from the stages:
 * - ingest: incremental from each domain's watermark;
 * - late-sweep: re-reads the previous `options.days` days (default 3);
 * - monthly-reports: re-reads the previous month (plus margin) to now, transforms, stops on failed
 *   data tests, reconciles that month (alerting billing if off), renders and sends every report;
 * - reconcile: the month to date, alerting the billing team when a domain is off (exit 3);
 * - carrier-reconcile: imports the files waiting in each carrier's inbox, moves them aside, and
 *   reconciles the months they touched (mismatch when disputes exceed the thresholds); with
 *   `options.previousMonth` also the previous UTC month (the monthly run). Run it every few
 *   minutes to pick files up soon after they land.
 * - lake-compact: closed months (ended `options.minAgeDays` days ago, default 7) into their compacted shape.
 * - alerts: the fraud and spend rules over the CDRs that landed since the last pass, delivering new alerts.
 */
export function createTaskRegistry(stages: Stages): TaskRegistry {
  return {
    ingest: (ctx) =>
      withSource(stages, ctx, async (source) => {
        const s = await stages.ingest(ctx, source, undefined, ctx.onProgress);
        return { status: 'ok', rows: num(s.rows), requests: num(s.requests), summary: { ingest: s } } satisfies JobOutcome;
      }),

    'late-sweep': (ctx) =>
      withSource(stages, ctx, async (source) => {
        const range = lateSweepRange({
          now: ctx.clock.now(),
          days: optionNumber(ctx, 'days', 3),
          settleMinutes: ctx.config.ingest.settleMinutes,
        });
        const s = await stages.ingest(ctx, source, range, ctx.onProgress);
        return {
          status: 'ok',
          rows: num(s.rows),
          requests: num(s.requests),
          summary: { range: { from: range.from.toISOString(), to: range.to.toISOString() }, ingest: s },
        } satisfies JobOutcome;
      }),

    'monthly-reports': (ctx) =>
      withSource(stages, ctx, async (source) => {
        const now = ctx.clock.now();
        const plan = monthlyReportPlan({
          tick: ctx.scheduledFor ?? now,
          now,
          timeZone: ctx.timeZone,
          settleMinutes: ctx.config.ingest.settleMinutes,
          marginDays: optionNumber(ctx, 'marginDays', 1),
        });
        const range = { from: plan.range.from.toISOString(), to: plan.range.to.toISOString() };
        ctx.onProgress?.({ phase: 'ingest' });
        const ing = await stages.ingest(ctx, source, plan.range, ctx.onProgress);
        ctx.signal.throwIfAborted();
        ctx.onProgress?.({ phase: 'transform' });
        const tr = await stages.transform(ctx);
        if (tr.failedTests.length > 0) {
          throw new Error(
            `data tests failed after the transform, so no reports for ${plan.month} were sent: ${tr.failedTests.join(', ')}. ` +
              `Inspect with cdrpipe transform, fix, then cdrpipe run ${ctx.jobName}`,
          );
        }
        ctx.signal.throwIfAborted();
        ctx.onProgress?.({ phase: 'reconcile' });
        const rec = await stages.reconcile(ctx, source, plan.month);
        await alertBilling(stages, ctx, rec);
        ctx.signal.throwIfAborted();
        ctx.onProgress?.({ phase: 'reports' });
        const rep = await stages.reports(ctx, plan.month);
        const off = rec.off.map((o) => o.domain);
        const sent = describeDelivery(plan.month, rep);
        return {
          status: off.length > 0 ? 'mismatch' : 'ok',
          rows: num(ing.rows),
          requests: num(ing.requests),
          summary: { month: plan.month, range, ingest: ing, transform: tr.summary, reconcile: rec.summary, reports: rep },
          message:
            off.length > 0
              ? `${sent}; ${off.length} domain(s) do not reconcile: ${off.join(', ')}`
              : `${sent}; all ${rec.domains} domains reconcile`,
        } satisfies JobOutcome;
      }),

    'carrier-reconcile': async (ctx) => {
      if (!stages.carrierReconcile) throw new Error('carrier-reconcile: this scheduler was started without the carrier stage');
      const carrier = ctx.job.options['carrier'];
      if (carrier !== undefined && typeof carrier !== 'string')
        throw new Error(`jobs.${ctx.jobName}.options.carrier must be a carrier name, got ${JSON.stringify(carrier)}`);
      const previousMonth = ctx.job.options['previousMonth'];
      if (previousMonth !== undefined && typeof previousMonth !== 'boolean')
        throw new Error(`jobs.${ctx.jobName}.options.previousMonth must be true or false, got ${JSON.stringify(previousMonth)}`);
      const r = await stages.carrierReconcile(ctx, {
        ...(carrier !== undefined ? { carrier } : {}),
        previousMonth: previousMonth === true,
      });
      const parts = [`${r.imported} file(s) imported`, ...(r.failed ? [`${r.failed} refused (moved to failed/)`] : [])];
      parts.push(r.reconciled.length ? `reconciled ${r.reconciled.join(', ')}` : 'nothing to reconcile');
      if (r.over.length) parts.push(`over the dispute thresholds: ${r.over.map((o) => `${o.carrier} (${o.detail})`).join('; ')}`);
      return { status: r.over.length > 0 ? 'mismatch' : 'ok', summary: r.summary, message: parts.join('; ') } satisfies JobOutcome;
    },

    reconcile: (ctx) =>
      withSource(stages, ctx, async (source) => {
        const month = localMonthOf(ctx.scheduledFor ?? ctx.clock.now(), ctx.timeZone);
        const rec = await stages.reconcile(ctx, source, month);
        await alertBilling(stages, ctx, rec);
        const off = rec.off.map((o) => o.domain);
        return {
          status: off.length > 0 ? 'mismatch' : 'ok',
          requests: rec.requests,
          summary: { month, reconcile: rec.summary },
          message:
            off.length > 0
              ? `${month}: ${off.length} domain(s) do not reconcile: ${off.join(', ')}`
              : `${month}: all ${rec.domains} domains reconcile`,
        } satisfies JobOutcome;
      }),

    'lake-compact': async (ctx) => {
      if (!stages.compact) throw new Error('lake-compact: this runtime has no lake compaction stage');
      const s = await stages.compact(ctx, optionNumber(ctx, 'minAgeDays', 7));
      return {
        status: 'ok',
        rows: num(s.rows),
        summary: { compact: s },
        message: typeof s.message === 'string' ? s.message : undefined,
      } satisfies JobOutcome;
    },

    alerts: async (ctx) => {
      const a = await stages.alerts(ctx);
      return { status: 'ok', summary: { alerts: a.summary }, message: a.message } satisfies JobOutcome;
    },
  };
}
