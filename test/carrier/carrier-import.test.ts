import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EXIT, UsageError } from '../../pipeline/util/errors.ts';
import { importHarness } from './import-harness.ts';

const BAD_INPUT = [
  '\uFEFFcall_id,start_time,from,to,billed_seconds,cost,note',
  'A1,2026-10-03T12:00:00Z,+14155550100,+1 (415) 555-0101,60,0.0100,ok',
  'A2,2026-10-03 12:05:00,14155550100,011 44 20 7946 0000,30,0.02,naive time',
  'A3,2026-10-03T12:06:00+02:00,x,14155550102,12,0.0123,"quoted, delimiter"',
  '',
  'A4,2026-10-03T12:07:00Z,x,4155550103,-5,0.01,negative',
  'A5,2026-10-03T12:08:00Z,x,4155550103,abc,0.01,not a number',
  '"A6","2026-10-03T12:09:00Z",x,4155550104,6,0.01,"multi',
  'line"',
  'A7,2026-10-03T12:10:00Z,x,4155550105,6',
  'A8,yesterday,x,4155550105,6,0.01,bad time',
  'A9,2026-10-03T12:11:00Z,x,,6,0.01,no destination',
  'A10,2026-10-03T12:12:00Z,x,4155550106,6,0.01,a,b',
  'A11,2026-10-03T12:13:00Z,x,911,6,0.00,short code',
  'A12,,x,4155550107,0,0,unanswered',
].join('\r\n');

describe('carrier import', () => {
  it('imports what is good, quarantines each bad line with its line number and reason', async () => {
    const h = await importHarness({ acme: { timeZone: 'America/New_York' } });
    const file = join(h.dir, 'acme-2026-10.csv');
    await writeFile(file, BAD_INPUT + '\r\n');
    const r = await h.run(file, 'acme');
    expect(r).toMatchObject({ carrier: 'acme', months: ['2026-10'], loaded: 5, rejected: 6, skipped: 1, unchanged: false });
    expect(r.rejects.map((x) => x.line)).toEqual([6, 7, 10, 11, 12, 13]);
    expect(r.rejects.map((x) => x.reason)).toEqual([
      'billed duration is negative',
      'billed duration is not a number of seconds (or minutes, as mapped)',
      expect.stringMatching(/does not split into the header's 7 columns/),
      'start time is not a timestamp (ISO 8601, with or without an offset)',
      'destination number is empty',
      expect.stringMatching(/does not split into the header's 7 columns/),
    ]);
    const rows = await h.rows();
    expect(rows.map((x) => [x.call_id, x.line_number, x.start_time, x.to_e164, x.billed_seconds, x.cost])).toEqual([
      ['A1', '2', '2026-10-03 12:00:00+00', '+14155550101', 60, '0.010000'],
      ['A2', '3', '2026-10-03 16:05:00+00', '+442079460000', 30, '0.020000'],
      ['A3', '4', '2026-10-03 10:06:00+00', '+14155550102', 12, '0.012300'],
      ['A6', '8', '2026-10-03 12:09:00+00', '+14155550104', 6, '0.010000'],
      ['A11', '14', '2026-10-03 12:13:00+00', null, 6, '0.000000'],
    ]);
    expect(rows[0]).toMatchObject({
      from_number: '+14155550100',
      to_number: '+1 (415) 555-0101',
      currency: 'USD',
      carrier: 'acme',
      month: '2026-10',
    });
    expect(rows[2]!.raw).toBe('A3,2026-10-03T12:06:00+02:00,x,14155550102,12,0.0123,"quoted, delimiter"');
    expect(rows.every((x) => x.file_sha256 === r.sha256 && x.file_name === 'acme-2026-10.csv')).toBe(true);
    const rejects = await h.rows('carrier_rejects');
    expect(rejects.map((x) => [x.line_number, x.month])).toEqual([
      ['6', '2026-10'],
      ['7', '2026-10'],
      ['10', 'unknown'],
      ['11', 'unknown'],
      ['12', '2026-10'],
      ['13', 'unknown'],
    ]);
    expect(rejects[0]!.raw).toBe('A4,2026-10-03T12:07:00Z,x,4155550103,-5,0.01,negative');
    expect(rejects[2]!.raw).toBe('A7,2026-10-03T12:10:00Z,x,4155550105,6');
  });

  it('sniffs another delimiter, reads gzip, and rejects lines of another month when one is given', async () => {
    const h = await importHarness();
    const tsv = [
      'to\tcost\tcall_id\tstart_time\tfrom\tbilled_seconds',
      '4155550100\t0.01\tT1\t2026-10-31T23:59:59Z\tx\t6',
      '4155550100\t0.01\tT2\t2026-11-01T00:00:00Z\tx\t6',
    ];
    const file = join(h.dir, 'october.tsv.gz');
    await writeFile(file, gzipSync(tsv.join('\n') + '\n'));
    const r = await h.run(file, 'generic', { month: '2026-10' });
    expect(r).toMatchObject({
      loaded: 1,
      rejected: 1,
      months: ['2026-10'],
      rejects: [{ line: 3, reason: 'start time is outside 2026-10' }],
    });
    // A file without quotes: the raw line is its fields joined by its delimiter.
    expect((await h.rows()).map((x) => x.raw)).toEqual([tsv[1]]);
  });

  it('fails fast (exit 2) on an empty file or a header without the carrier columns, and keeps what was imported', async () => {
    const h = await importHarness();
    const good = join(h.dir, 'good.csv');
    await writeFile(good, 'call_id,start_time,from,to,billed_seconds,cost\nG1,2026-10-01T00:00:00Z,x,4155550100,6,0.01\n');
    await h.run(good, 'generic');
    const before = await h.files();
    const empty = join(h.dir, 'empty.csv');
    await writeFile(empty, '');
    await expect(h.run(empty, 'generic')).rejects.toThrow(/empty\.csv is empty/);
    // A generic file read with the sinch preset: the mapping does not fit.
    const err = await h.run(good, 'sinch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(EXIT.usage);
    expect((err as Error).message).toMatch(/lacks "CallId", "AnswerTime", "Duration", "Amount", "Currency" needed by carrier sinch/);
    expect(await h.files()).toEqual(before);
    expect(await h.rows()).toHaveLength(1);
  });

  it('same bytes: nothing changes; same name and month: the correction replaces; other periods coexist', async () => {
    const h = await importHarness();
    const header = 'call_id,start_time,from,to,billed_seconds,cost';
    const file = join(h.dir, 'cdrs.csv');
    await writeFile(file, `${header}\nO1,2026-10-01T00:00:00Z,x,4155550100,6,0.01\nO2,2026-10-02T00:00:00Z,x,4155550100,6,0.01\n`);
    const first = await h.run(file, 'generic');
    const filesAfterFirst = await h.files();

    h.clock.advance(60_000);
    const again = await h.run(file, 'generic');
    expect(again).toMatchObject({ unchanged: true, loaded: 2, sha256: first.sha256 });
    expect(await h.files()).toEqual(filesAfterFirst);

    // The carrier's corrected October file, same name: replaces the first one's rows.
    await writeFile(file, `${header}\nO1,2026-10-01T00:00:00Z,x,4155550100,6,0.005\n`);
    const corrected = await h.run(file, 'generic');
    expect(corrected.replaced).toBe(`cdrs.csv (${first.sha256.slice(0, 12)})`);
    expect((await h.rows()).map((x) => [x.call_id, x.cost])).toEqual([['O1', '0.005000']]);
    expect((await h.files()).filter((f) => f.includes(first.sha256))).toEqual([]);

    // November under the same name: a different period, so both stay.
    await writeFile(file, `${header}\nN1,2026-11-01T00:00:00Z,x,4155550100,6,0.01\n`);
    await h.run(file, 'generic');
    expect((await h.rows()).map((x) => x.call_id)).toEqual(['O1', 'N1']);

    // A correction under another name says which import it corrects.
    const fix = join(h.dir, 'cdrs-nov-fixed.csv');
    await writeFile(fix, `${header}\nN1,2026-11-01T00:00:00Z,x,4155550100,6,0.02\n`);
    const byName = await h.run(fix, 'generic', { replaces: 'cdrs.csv' });
    expect(byName.replaced).toMatch(/^cdrs\.csv \(/);
    expect((await h.rows()).map((x) => [x.call_id, x.cost])).toEqual([['N1', '0.020000']]);
    await expect(h.run(fix, 'generic', { replaces: 'nothing-like-it.csv' })).resolves.toMatchObject({ unchanged: true });
  });
});
