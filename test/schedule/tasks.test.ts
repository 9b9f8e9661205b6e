import { describe, expect, it } from 'vitest';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { createTaskRegistry, type Stages } from '../../pipeline/schedule/tasks.ts';
import { lateSweepRange, monthlyReportPlan } from '../../pipeline/schedule/task-ranges.ts';
import type { JobContext } from '../../pipeline/schedule/job-types.ts';
import type { CdrSource } from '../../pipeline/source/types.ts';
import { RecordingAlerter, testEnv } from './helpers.ts';
import { testConfig } from '../support/test-config.ts';

describe('task ranges', () => {
  it('monthly: the previous local month, re-read from a day before its UTC start to now minus settle', () => {
    const plan = monthlyReportPlan({
      tick: new Date('2026-12-01T11:00:00Z'),
      now: new Date('2026-12-01T11:00:05Z'),
      timeZone: 'America/New_York',
      settleMinutes: 15,
    });
    expect(plan.month).toBe('2026-11');
    expect(plan.range.from.toISOString()).toBe('2026-10-31T00:00:00.000Z');
    expect(plan.range.to.toISOString()).toBe('2026-12-01T10:45:05.000Z');
    // A tick at 00:30 local on Jan 1 in Tokyo is still Dec 31 in UTC: the local month decides.
    expect(
      monthlyReportPlan({
        tick: new Date('2025-12-31T15:30:00Z'),
        now: new Date('2025-12-31T15:30:00Z'),
        timeZone: 'Asia/Tokyo',
        settleMinutes: 0,
      }).month,
    ).toBe('2025-12');
  });

  it('late sweep: the previous N days', () => {
    const r = lateSweepRange({ now: new Date('2026-12-10T07:30:00Z'), days: 3, settleMinutes: 15 });
    expect([r.from.toISOString(), r.to.toISOString()]).toEqual(['2026-12-07T07:15:00.000Z', '2026-12-10T07:15:00.000Z']);
  });
});

function recordingStages(over: Partial<Stages> = {}) {
  const calls: string[] = [];
  const source = {} as CdrSource;
  const stages: Stages = {
    createSource: async () => ({ source, close: () => void calls.push('close') }),
    ingest: async (_ctx, _s, range) => {
      calls.push(range ? `ingest ${range.from.toISOString()}..${range.to.toISOString()}` : 'ingest incremental');
      return { rows: 10, requests: 4 };
    },
    transform: async () => {
      calls.push('transform');
      return { failedTests: [], summary: {} };
    },
    reconcile: async (_ctx, _s, month) => {
      calls.push(`reconcile ${month}`);
      return { month, off: [], domains: 3, summary: {} };
    },
    reports: async (_ctx, month) => {
      calls.push(`reports ${month}`);
      return { sent: 3 };
    },
    alerts: async () => {
      calls.push('alerts');
      return { summary: {}, message: '0 calls evaluated' };
    },
    ...over,
  };
  return { stages, calls };
}

function ctx(jobName: string, clock: FixedClock, scheduledFor?: Date): JobContext {
  const config = testConfig();
  return {
    jobName,
    job: config.jobs[jobName]!,
    dataDir: '/nonexistent',
    config,
    env: testEnv('/nonexistent'),
    clock,
    logger: silentLogger(),
    signal: new AbortController().signal,
    trigger: 'cron',
    scheduledFor,
    timeZone: 'America/New_York',
  };
}

describe('task registry', () => {
  const clock = new FixedClock(new Date('2026-12-01T11:00:00Z'));

  it('monthly-reports: ingest, transform, reconcile, reports, in that order', async () => {
    const { stages, calls } = recordingStages();
    const out = await createTaskRegistry(stages)['monthly-reports'](ctx('monthly-reports', clock, new Date('2026-12-01T11:00:00Z')));
    expect(calls).toEqual([
      'ingest 2026-10-31T00:00:00.000Z..2026-12-01T10:45:00.000Z',
      'transform',
      'reconcile 2026-11',
      'reports 2026-11',
      'close',
    ]);
    expect(out).toMatchObject({ status: 'ok', rows: 10, requests: 4 });
  });

  it('monthly-reports: failed data tests stop it before anything is sent', async () => {
    const { stages, calls } = recordingStages({ transform: async () => ({ failedTests: ['charges_agree'], summary: {} }) });
    await expect(createTaskRegistry(stages)['monthly-reports'](ctx('monthly-reports', clock))).rejects.toThrow(
      /data tests failed .*charges_agree/,
    );
    expect(calls.some((c) => c.startsWith('reports'))).toBe(false);
  });

  it('reconcile: month to date; a domain off alerts the billing team and is a mismatch', async () => {
    const alerter = new RecordingAlerter();
    const { stages, calls } = recordingStages({
      alerter,
      reconcile: async (_c, _s, month) => ({
        month,
        off: [{ domain: 'acme.example', detail: 'lake 10 calls, API 12' }],
        domains: 3,
        summary: {},
      }),
    });
    const out = await createTaskRegistry(stages).reconcile(ctx('reconcile', new FixedClock(new Date('2026-12-10T12:00:00Z'))));
    expect(out.status).toBe('mismatch');
    expect(calls).toEqual(['close']);
    expect(alerter.sent).toHaveLength(1);
    expect(alerter.sent[0]!.to).toEqual(['billing@test.example']);
    expect(alerter.sent[0]!.subject).toContain('2026-12');
    expect(alerter.sent[0]!.text).toContain('acme.example: lake 10 calls, API 12');
  });

  it('late-sweep uses options.days', async () => {
    const { stages, calls } = recordingStages();
    await createTaskRegistry(stages)['late-sweep'](ctx('late-sweep', new FixedClock(new Date('2026-12-10T07:30:00Z'))));
    expect(calls[0]).toBe('ingest 2026-12-07T07:15:00.000Z..2026-12-10T07:15:00.000Z');
  });
});
