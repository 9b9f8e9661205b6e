import { afterEach, describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { isPlainRecord } from '../../pipeline/lake/plain-record.ts';
import { lakeSql } from '../../pipeline/lake/sql-files.ts';
import { normalizeCdrId } from '../../pipeline/source/cdr-id.ts';
import { validateCdr } from '../../pipeline/source/cdr-record.ts';
import { lakeRows, NOW, OCT, startHarness, type Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Every code point JavaScript's trim() removes, plus a few it keeps. */
const PADS = [...Array(0x10000).keys()].filter((c) => (c < 0xd800 || c >= 0xe000) && String.fromCharCode(c).trim() === '');

describe('CDR ids', () => {
  it('padded and unpadded spellings of one id in one window are one lake row, stored trimmed', async () => {
    h = await startHarness({ now: NOW, domains: 1 });
    const domain = String(h.sim.domains()[0]!.domain);
    const template = h.sim.groundTruth(domain, OCT)[0]!;
    const at = (id: string, talk: number) => ({
      ...template,
      id,
      'call-start-datetime': '2026-10-15T10:00:00Z',
      'call-talking-duration-seconds': talk,
    });
    h.sim.setCdrs(domain, [at(' 0123 ', 1), at('0123', 2), at('\t0456', 3), at('0456\u00a0', 4), at('0789', 5)]);
    await h.ingest({ from: OCT.start, to: OCT.end });
    const rows = await lakeRows(h.dir);
    expect(rows.map((r) => r.id)).toEqual(['0123', '0456', '0789']);
  });

  it('an id that is only white space is rejected, with a reason', () => {
    for (const id of ['', ' ', '\t', '\u00a0\u3000', '\ufeff']) {
      const v = validateCdr({ id, 'call-start-datetime': '2026-10-15T10:00:00Z', 'call-total-duration-seconds': 1, 'call-direction': 0 });
      expect(v.ok, JSON.stringify(id)).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(/^id: /);
    }
    expect(normalizeCdrId(42)).toBe('42');
    expect(normalizeCdrId(1.5)).toBeUndefined();
  });

  it("a record whose id is not yet in the lake's form never takes the plain row SQL (which reads ids as they are)", () => {
    for (const c of PADS) {
      const ch = String.fromCharCode(c);
      for (const id of [`${ch}7`, `7${ch}`, ch])
        expect(isPlainRecord({ id, 'call-start-datetime': '2026-10-15T10:00:00Z' }), JSON.stringify(id)).toBe(false);
    }
    expect(isPlainRecord({ id: '7 7', 'call-start-datetime': '2026-10-15T10:00:00Z' })).toBe(true);
    expect(isPlainRecord({ id: '', 'call-start-datetime': '2026-10-15T10:00:00Z' })).toBe(true);
  });

  it('the SQL macro cdr_id and normalizeCdrId agree for every white-space character, at either end and inside', async () => {
    const db = await Db.open(':memory:');
    try {
      await db.exec(lakeSql('cdr-macros.sql'));
      const samples = [...PADS, 0x41, 0x2d, 0x5f, 0x85, 0x180e, 0x200b].flatMap((c) => {
        const ch = String.fromCharCode(c);
        return [ch, `${ch}7`, `7${ch}`, `${ch}${ch}7${ch}8${ch}`];
      });
      const got = await db.all<{ i: number; id: string | null }>(
        `SELECT i::INTEGER AS i, cdr_id(l[i]) AS id FROM (SELECT from_json($1, '["VARCHAR"]') AS l), range(1, len(l) + 1) t(i)`,
        [JSON.stringify(samples)],
      );
      const mismatches = got.filter((g) => (g.id ?? undefined) !== normalizeCdrId(samples[g.i - 1]));
      expect(mismatches).toEqual([]);
      expect(got.length).toBe(samples.length);
    } finally {
      db.close();
    }
  });
});
