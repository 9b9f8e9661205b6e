import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../pipeline/extract/fair-queue.ts';
import {
  advanceWatermark,
  contiguousPrefix,
  cutWindows,
  decideWindow,
  halveWindow,
  incrementalRange,
  countsPlausible,
  nextWave,
  promisedPages,
  windowMonth,
  windowWidthMs,
} from '../../pipeline/extract/windows.ts';

const d = (s: string) => new Date(s);
const w = (a: string, b: string) => ({ start: d(a), end: d(b) });
const iso = (ws: { start: Date; end: Date }[]) => ws.map((x) => [x.start.toISOString(), x.end.toISOString()]);
const settings = { rowBudget: 20_000, minWindowMinutes: 5, maxWindowDays: 31, pageSize: 1000 };

/** The windows tile the range exactly: contiguous, non-empty, each inside one UTC month. */
function expectTiling(range: { start: Date; end: Date }, ws: { start: Date; end: Date }[], maxDays: number) {
  expect(ws[0]!.start).toEqual(range.start);
  expect(ws[ws.length - 1]!.end).toEqual(range.end);
  for (let i = 0; i < ws.length; i++) {
    const x = ws[i]!;
    expect(x.end > x.start).toBe(true);
    if (i > 0) expect(x.start).toEqual(ws[i - 1]!.end);
    expect(windowMonth({ start: x.start, end: x.start })).toBe(windowMonth({ start: new Date(x.end.getTime() - 1), end: x.end }));
    expect(windowWidthMs(x)).toBeLessThanOrEqual(maxDays * 86_400_000);
  }
}

describe('cutWindows', () => {
  it('cuts at UTC month boundaries', () => {
    expect(iso(cutWindows(w('2026-10-15T12:00:00Z', '2026-12-02T00:00:00Z'), 31))).toEqual([
      ['2026-10-15T12:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
    ]);
  });
  it('gives nothing for an empty or inverted range', () => {
    expect(cutWindows(w('2026-10-01', '2026-10-01'), 31)).toEqual([]);
    expect(cutWindows(w('2026-10-02', '2026-10-01'), 31)).toEqual([]);
  });
  it('bounds width by maxWindowDays and crosses leap February and year ends', () => {
    const range = w('2027-12-20T00:00:00Z', '2028-03-05T07:30:00Z');
    const ws = cutWindows(range, 10);
    expectTiling(range, ws, 10);
    expect(iso(ws).slice(0, 3)).toEqual([
      ['2027-12-20T00:00:00.000Z', '2027-12-30T00:00:00.000Z'],
      ['2027-12-30T00:00:00.000Z', '2028-01-01T00:00:00.000Z'],
      ['2028-01-01T00:00:00.000Z', '2028-01-11T00:00:00.000Z'],
    ]);
    // leap February: its last window is 21st..1st March (9 days)
    expect(iso(ws)).toContainEqual(['2028-02-21T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
  });
  it('tiles many ranges exactly (exhaustive over starts, lengths and widths)', () => {
    const base = Date.UTC(2026, 0, 1);
    for (let startDay = 0; startDay < 400; startDay += 17) {
      for (const lenDays of [0.01, 1, 29, 31, 45, 100]) {
        for (const maxDays of [1, 7, 31]) {
          const range = {
            start: new Date(base + startDay * 86_400_000 + 3_600_000),
            end: new Date(base + (startDay + lenDays) * 86_400_000 + 3_600_000),
          };
          expectTiling(range, cutWindows(range, maxDays), maxDays);
        }
      }
    }
  });
});

describe('halveWindow and decideWindow', () => {
  it('halves on a whole minute and stops at the floor', () => {
    expect(iso(halveWindow(w('2026-10-01T00:00:00Z', '2026-10-01T00:11:00Z'), 5)!)).toEqual([
      ['2026-10-01T00:00:00.000Z', '2026-10-01T00:05:00.000Z'],
      ['2026-10-01T00:05:00.000Z', '2026-10-01T00:11:00.000Z'],
    ]);
    expect(halveWindow(w('2026-10-01T00:00:00Z', '2026-10-01T00:09:59Z'), 5)).toBeUndefined();
  });
  it('recursive halving of a month reaches the floor in log2 steps and always tiles', () => {
    let ws = [w('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z')];
    for (let depth = 0; depth < 20; depth++) {
      const next = ws.flatMap((x) => halveWindow(x, 5) ?? [x]);
      if (next.length === ws.length) break;
      ws = next;
    }
    expectTiling(w('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z'), ws, 31);
    for (const x of ws) {
      expect(windowWidthMs(x)).toBeGreaterThanOrEqual(5 * 60_000);
      expect(windowWidthMs(x)).toBeLessThan(10 * 60_000);
    }
  });
  it('decides by count: empty costs nothing, a full budget fetches, above budget splits unless at the floor', () => {
    const m = w('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z');
    expect(decideWindow(m, 0, settings)).toEqual({ kind: 'empty' });
    expect(decideWindow(m, 20_000, settings)).toEqual({ kind: 'fetch' });
    expect(decideWindow(m, 20_001, settings).kind).toBe('split');
    const narrow = w('2026-10-01T00:00:00Z', '2026-10-01T00:09:00Z');
    expect(decideWindow(narrow, 50_000, settings)).toEqual({ kind: 'fetch' });
  });
});

describe('promisedPages and nextWave', () => {
  it('counts every page the count promises plus the proof of the end, without listing them', () => {
    expect(promisedPages(0, 1000)).toBe(0);
    expect(promisedPages(1, 1000)).toBe(1);
    expect(promisedPages(999, 1000)).toBe(1);
    expect(promisedPages(1000, 1000)).toBe(2);
    expect(promisedPages(2500, 1000)).toBe(3);
    expect(promisedPages(1e12, 1000)).toBe(1e9 + 1);
  });

  it('starts with one page, doubles while pages come back full, and never plans more than the cap at once', () => {
    const waves = (promised: number, max: number, pages: number) => {
      const out: number[] = [];
      let done = 0;
      let wave = 0;
      while (done < pages) {
        wave = nextWave(done, wave, promised, max);
        out.push(wave);
        done += wave;
      }
      return out;
    };
    expect(waves(3, 16, 3)).toEqual([1, 2]);
    expect(waves(31, 16, 31)).toEqual([1, 2, 4, 8, 16]);
    // An absurd count plans no more than the cap per wave.
    expect(waves(1e9 + 1, 16, 63)).toEqual([1, 2, 4, 8, 16, 16, 16]);
    // Past what the count promised, pages come one at a time.
    expect(waves(2, 16, 5)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('countsPlausible', () => {
  it('refuses counts that are not whole numbers the process can hold, or halves that add up to more than the window', () => {
    expect(countsPlausible(30_000)).toBe(true);
    expect(countsPlausible(1e12)).toBe(true);
    expect(countsPlausible(1e20)).toBe(false);
    expect(countsPlausible(30_000, [14_000, 16_050])).toBe(true);
    expect(countsPlausible(30_000, [30_000, 30_000])).toBe(false);
    expect(countsPlausible(1e12, [1e12, 1e12])).toBe(false);
  });
});

describe('incrementalRange', () => {
  const s = { lookbackHours: 48, settleMinutes: 15, initialBackfillDays: 35 };
  it('reads [watermark - lookback, now - settle)', () => {
    expect(iso([incrementalRange(d('2026-11-27T10:00:00Z'), d('2026-11-27T12:00:00Z'), s)!])).toEqual([
      ['2026-11-25T10:00:00.000Z', '2026-11-27T11:45:00.000Z'],
    ]);
  });
  it('starts a new domain initialBackfillDays back, and gives nothing when there is nothing to read', () => {
    expect(incrementalRange(undefined, d('2026-11-27T12:00:00Z'), s)!.start.toISOString()).toBe('2026-10-23T12:00:00.000Z');
    expect(incrementalRange(d('2026-11-27T12:00:00Z'), d('2026-11-27T12:00:00Z'), { ...s, lookbackHours: 0 })).toBeUndefined();
  });
});

describe('advanceWatermark and contiguousPrefix', () => {
  it('moves forward through touching ranges, in any completion order, never backward', () => {
    const wm = d('2026-10-10T00:00:00Z');
    expect(advanceWatermark(wm, [w('2026-10-12', '2026-10-20')])).toEqual(wm);
    expect(advanceWatermark(wm, [w('2026-10-12', '2026-10-20'), w('2026-10-08', '2026-10-12')])).toEqual(d('2026-10-20'));
    expect(advanceWatermark(wm, [w('2026-09-01', '2026-09-10')])).toEqual(wm);
    expect(advanceWatermark(undefined, [w('2026-09-01', '2026-09-10')])).toBeUndefined();
    expect(advanceWatermark(undefined, [w('2026-09-01', '2026-09-10')], d('2026-09-01'))).toEqual(d('2026-09-10'));
    expect(advanceWatermark(undefined, [w('2026-09-02', '2026-09-10')], d('2026-09-01'))).toBeUndefined();
  });
  it('finds the completed run from a point', () => {
    const done = [
      w('2026-10-03', '2026-10-05'),
      w('2026-10-01', '2026-10-02'),
      w('2026-10-02', '2026-10-03'),
      w('2026-10-06', '2026-10-07'),
    ];
    expect(iso([contiguousPrefix(d('2026-10-01'), done)!])).toEqual([['2026-10-01T00:00:00.000Z', '2026-10-05T00:00:00.000Z']]);
    expect(contiguousPrefix(d('2026-10-05'), done)).toBeUndefined();
  });
});

describe('FairQueue', () => {
  it('serves keys round-robin so a long queue cannot starve a short one', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 5; i++) q.push('big', `b${i}`);
    q.push('small', 's0');
    q.push('other', 'o0');
    const order = [q.next(), q.next(), q.next(), q.next()];
    expect(order).toEqual(['b0', 's0', 'o0', 'b1']);
    q.unshift('small', 's-split-a', 's-split-b');
    expect([q.next(), q.next(), q.next(), q.next(), q.next()]).toEqual(['s-split-a', 'b2', 's-split-b', 'b3', 'b4']);
    expect(q.next()).toBeUndefined();
  });
});
