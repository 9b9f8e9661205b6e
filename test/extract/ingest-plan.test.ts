import { describe, expect, it } from 'vitest';
import { checkConcurrency, emptySummary, planDomain, planRange, requestsSince } from '../../pipeline/extract/ingest-plan.ts';
import type { DoneWindow, PartitionState } from '../../pipeline/extract/ingest-state.ts';
import { flushable, nextWatermark } from '../../pipeline/extract/partition-merge.ts';
import { gotOf } from '../../pipeline/extract/window-runner.ts';
import { UsageError } from '../../pipeline/util/errors.ts';

const d = (s: string) => new Date(s);
const now = d('2026-11-10T12:00:00Z');
const settings = { lookbackHours: 48, settleMinutes: 15, initialBackfillDays: 35, maxWindowDays: 31 };

describe('planRange', () => {
  it('clamps a backfill end past now minus the settle time and says what was asked', () => {
    const r = planRange({ from: d('2026-11-01T00:00:00Z'), to: d('2026-11-11T00:00:00Z'), now, settleMinutes: 15 });
    expect(r).toEqual({
      backfill: true,
      settledEnd: d('2026-11-10T11:45:00Z'),
      from: d('2026-11-01T00:00:00Z'),
      to: d('2026-11-10T11:45:00Z'),
      clampedFrom: d('2026-11-11T00:00:00Z'),
    });
    expect(emptySummary('r1', r, false)).toMatchObject({
      mode: 'backfill',
      range: { from: '2026-11-01T00:00:00.000Z', to: '2026-11-10T11:45:00.000Z' },
      clampedFrom: '2026-11-11T00:00:00.000Z',
    });
  });

  it('reads up to now minus the settle time when only --from is given', () => {
    expect(planRange({ from: d('2026-11-01T00:00:00Z'), now, settleMinutes: 15 }).to).toEqual(d('2026-11-10T11:45:00Z'));
  });

  it('is incremental without ends', () => {
    const r = planRange({ now, settleMinutes: 15 });
    expect(r).toEqual({ backfill: false, settledEnd: d('2026-11-10T11:45:00Z') });
    expect(emptySummary('r1', r, true)).toMatchObject({ mode: 'incremental', prune: true });
  });

  it('refuses --to alone, reversed ends, a start that has not settled, and a concurrency below 1', () => {
    expect(() => planRange({ to: d('2026-11-01T00:00:00Z'), now, settleMinutes: 15 })).toThrow(UsageError);
    expect(() => planRange({ from: d('2026-11-02T00:00:00Z'), to: d('2026-11-01T00:00:00Z'), now, settleMinutes: 15 })).toThrow(
      /must be before/,
    );
    expect(() => planRange({ from: d('2026-11-10T11:50:00Z'), to: d('2026-11-10T12:00:00Z'), now, settleMinutes: 15 })).toThrow(
      /settle time/,
    );
    expect(() => checkConcurrency(0)).toThrow(UsageError);
    expect(checkConcurrency(3)).toBe(3);
  });
});

describe('planDomain', () => {
  it('groups the windows of a backfill by UTC month, one partition each', () => {
    const range = planRange({ from: d('2026-10-20T00:00:00Z'), to: d('2026-11-05T00:00:00Z'), now, settleMinutes: 15 });
    const plan = planDomain('a.example', undefined, range, now, settings);
    expect(plan.partitions.map((p) => [p.month, p.flushedTo.toISOString(), p.end.toISOString()])).toEqual([
      ['2026-10', '2026-10-20T00:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      ['2026-11', '2026-11-01T00:00:00.000Z', '2026-11-05T00:00:00.000Z'],
    ]);
    expect(plan.tasks.map((t) => t.part.month)).toEqual(['2026-10', '2026-11']);
    expect(plan.dom.seed).toBeUndefined();
  });

  it('seeds an incremental domain without a watermark where its first run starts', () => {
    const plan = planDomain('a.example', undefined, planRange({ now, settleMinutes: 15 }), now, settings);
    expect(plan.dom.seed).toEqual(d('2026-10-06T12:00:00Z'));
  });

  it('plans nothing for a watermark already at now minus the settle time, but keeps the domain', () => {
    const plan = planDomain('a.example', d('2026-11-12T00:00:00Z'), planRange({ now, settleMinutes: 15 }), now, {
      ...settings,
      lookbackHours: 0,
    });
    expect(plan.tasks).toEqual([]);
    expect(plan.dom.watermark).toEqual(d('2026-11-12T00:00:00Z'));
  });
});

describe('merging and watermarks', () => {
  const done = (a: string, b: string, rows: number): DoneWindow => ({
    window: { start: d(a), end: d(b) },
    clean: true,
    prunable: false,
    files: [],
    rows,
    idHashes: new Float64Array(0),
    duplicateIds: [],
  });
  const part = (windows: DoneWindow[]): PartitionState => ({
    dom: { domain: 'a.example', watermark: undefined, seed: undefined, flushed: [] },
    month: '2026-11',
    end: d('2026-11-04T00:00:00Z'),
    flushedTo: d('2026-11-01T00:00:00Z'),
    done: new Map(windows.map((w) => [w.window.start.getTime(), w])),
    spooledRows: 0,
  });

  it('hands over only the contiguous prefix, early only past the row threshold or when forced', () => {
    const p = part([done('2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', 10), done('2026-11-03T00:00:00Z', '2026-11-04T00:00:00Z', 5)]);
    expect(flushable(p, 100, false)).toBeUndefined();
    expect(flushable(p, 10, false)).toMatchObject({
      range: { start: d('2026-11-01T00:00:00Z'), end: d('2026-11-02T00:00:00Z') },
      rows: 10,
    });
    expect(flushable(p, 100, true)?.windows).toHaveLength(1);
    expect(flushable(part([]), 1, true)).toBeUndefined();
  });

  it('moves a watermark through flushed ranges but never past now minus the settle time, nor back', () => {
    const dom = {
      domain: 'a.example',
      watermark: d('2026-11-01T00:00:00Z'),
      seed: undefined,
      flushed: [{ start: d('2026-10-31T00:00:00Z'), end: d('2026-11-11T00:00:00Z') }],
    };
    expect(nextWatermark(dom, d('2026-11-10T11:45:00Z'))).toEqual(d('2026-11-10T11:45:00Z'));
    expect(nextWatermark({ ...dom, flushed: [] }, d('2026-11-10T11:45:00Z'))).toBeUndefined();
  });
});

describe('requests and answers', () => {
  it('counts only what this run requested and retried', () => {
    const before = { requests: 10, retries: 2, retriesByReason: { '429': 2 } };
    const after = { requests: 15, retries: 5, retriesByReason: { '429': 2, '5xx': 3 } };
    expect(requestsSince(before, after)).toEqual({ requests: 5, retries: 3, retriesByReason: { '5xx': 3 } });
  });

  it('compares every record the list answered with the count, repeats included', () => {
    const f = {
      files: [],
      distinctIds: 7,
      repeats: 2,
      rejects: [{ domain: 'a.example', reason: 'x', rawText: '{}' }],
      outOfWindow: 1,
      pages: 1,
      idHashes: new Float64Array(0),
      duplicateIds: [],
    };
    expect(gotOf(f)).toBe(11);
  });
});
