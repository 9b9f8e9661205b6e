import { describe, expect, it } from 'vitest';
import { parseConcurrency, parseIngestTime } from '../../pipeline/cli/ingest.ts';
import { UsageError } from '../../pipeline/util/errors.ts';

describe('cdrpipe ingest arguments', () => {
  it('reads a date as midnight UTC and a datetime as UTC unless it has an offset', () => {
    expect(parseIngestTime('--from', '2026-10-01').toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(parseIngestTime('--from', '2026-10-01T06:30').toISOString()).toBe('2026-10-01T06:30:00.000Z');
    expect(parseIngestTime('--from', '2026-10-01 06:30:15Z').toISOString()).toBe('2026-10-01T06:30:15.000Z');
    expect(parseIngestTime('--from', '2026-10-01T06:30:00-0400').toISOString()).toBe('2026-10-01T10:30:00.000Z');
    expect(parseIngestTime('--to', '2026-10-01T06:30:00.250+02:00').toISOString()).toBe('2026-10-01T04:30:00.250Z');
  });
  it('refuses anything else with a usage error naming the flag', () => {
    for (const bad of ['yesterday', '2026-13-01', '2026-02-30', '2026-10-01T25:00', '', '1696118400']) {
      expect(() => parseIngestTime('--to', bad)).toThrow(UsageError);
      expect(() => parseIngestTime('--to', bad)).toThrow(/--to/);
    }
    expect(parseConcurrency('8')).toBe(8);
    for (const bad of ['0', '-1', '2.5', 'lots', '65']) expect(() => parseConcurrency(bad)).toThrow(/--concurrency/);
  });
});

describe('cdrpipe ingest exit codes', () => {
  it('exits 2 on a bad --from before touching the network', async () => {
    const { main } = await import('../../pipeline/cli/main.ts');
    const err = process.stderr.write;
    let text = '';
    process.stderr.write = ((s: string) => ((text += s), true)) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'cdrpipe', 'ingest', '--from', 'last-tuesday'])).toBe(2);
      expect(await main(['node', 'cdrpipe', 'ingest', '--to', '2026-10-01'])).toBe(2);
    } finally {
      process.stderr.write = err;
    }
    expect(text).toMatch(/--from "last-tuesday" is not an ISO date/);
    expect(text).toMatch(/--to needs --from/);
  });
});
