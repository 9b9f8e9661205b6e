import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { Db } from '../../pipeline/db/duckdb.ts';
import { billableSeconds, chargeMicros, rateLine, rateMonth, rateRule, type IncrementRule } from '../../pipeline/transform/rating.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { deckConfig, writeDomains, writeLake } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { RULE_VECTORS, VECTORS } from './rating-vectors.ts';

const rule = (x: (typeof VECTORS)[number]): IncrementRule => ({
  perMinute: x.perMinute,
  initialIncrement: x.initial,
  subsequentIncrement: x.subsequent,
  minimumSeconds: x.minimum,
  connectFee: x.connectFee,
});

describe('rating reference (TypeScript, integers only)', () => {
  for (const x of VECTORS) {
    it(x.name, () => {
      const r = rateLine(x.talkS, rule(x), x.decimals);
      expect(r.billableS).toBe(x.billableS);
      expect(r.charge).toBe(x.charge);
    });
  }

  for (const x of RULE_VECTORS) {
    it(`rule: ${x.name} -> ${x.rule}`, () => {
      expect(rateRule({ direction: x.direction, billable: true, didClass: x.didClass })).toBe(x.rule);
    });
  }

  it('rule: a leg that is not billable is priced by no rule', () => {
    expect(rateRule({ direction: 'inbound', billable: false, didClass: 'toll-free' })).toBe('none');
  });

  it('refuses nonsense increments', () => {
    expect(() => billableSeconds(10, { initialIncrement: 0, subsequentIncrement: 6, minimumSeconds: 0 })).toThrow(/initialIncrement/);
  });

  it('an included pool exhausted mid-call bills only the excess', () => {
    const r = { perMinute: '1.20', initialIncrement: 6, subsequentIncrement: 6, minimumSeconds: 0, connectFee: '0' };
    const lines = rateMonth(
      [
        { talkS: 40, rule: r, drawsOnPool: true }, // 42 s, all included
        { talkS: 30, rule: r, drawsOnPool: false }, // not a pool class: 30 s charged
        { talkS: 40, rule: r, drawsOnPool: true }, // 42 s: 18 included, 24 charged
        { talkS: 12, rule: r, drawsOnPool: true }, // pool empty: 12 charged
      ],
      2,
      1,
    );
    expect(lines.map((l) => [l.billableS, l.includedS, l.chargedS, l.charge])).toEqual([
      [42, 42, 0, '0.000000'],
      [30, 0, 30, '0.600000'],
      [42, 18, 24, '0.480000'],
      [12, 0, 12, '0.240000'],
    ]);
  });

  it('connect fee is still due on a call fully covered by the pool', () => {
    expect(
      rateLine(30, { perMinute: '0.5', initialIncrement: 6, subsequentIncrement: 6, minimumSeconds: 0, connectFee: '0.03' }, 2, 600).charge,
    ).toBe('0.030000');
    expect(chargeMicros(0, '0.5', '0.03', 2)).toBe(30000n);
  });
});

describe('SQL macros agree with the TypeScript reference', () => {
  it('on every trade vector', async () => {
    const db = await Db.open(':memory:');
    try {
      await db.exec(await readFile(resolveProjectPath('reports/macros/money.sql'), 'utf8'));
      for (const x of VECTORS) {
        const row = await db.one<{ b: number; c: string }>(
          `SELECT billable_seconds($1::INTEGER, $2::INTEGER, $3::INTEGER, $4::INTEGER) AS b,
                  CASE WHEN billable_seconds($1::INTEGER, $2::INTEGER, $3::INTEGER, $4::INTEGER) = 0 THEN CAST(0 AS DECIMAL(18,6))
                       ELSE line_charge(billable_seconds($1::INTEGER, $2::INTEGER, $3::INTEGER, $4::INTEGER), $5::DECIMAL(18,6), $6::DECIMAL(18,6), $7::INTEGER) END AS c`,
          [x.talkS, x.initial, x.subsequent, x.minimum, x.perMinute, x.connectFee, x.decimals],
        );
        const ts = rateLine(x.talkS, rule(x), x.decimals);
        expect({ name: x.name, b: row?.b, c: row?.c }).toEqual({ name: x.name, b: ts.billableS, c: ts.charge });
      }
      const t = await db.one<{ t: string }>(`SELECT typeof(line_charge(61, 0.1::DECIMAL(18,6), 0::DECIMAL(18,6), 2)) AS t`);
      expect(t?.t).toBe('DECIMAL(18,6)');
    } finally {
      db.close();
    }
  });
});

describe('rated_calls chooses the same rule as the TypeScript reference', () => {
  it('on every rule vector: toll-free inbound follows the DID called, not the caller', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'r.example', time_zone: 'UTC' }]);
    await writeLake(
      dataDir,
      RULE_VECTORS.map((x, i) => ({
        domain: 'r.example',
        id: `v${i}`,
        start: new Date(Date.UTC(2026, 9, 5, 10, i)).toISOString(),
        direction: x.direction,
        talk_s: 60,
        orig_user: x.direction === 'inbound' || x.direction === 'missed' ? null : '101',
        term_user: x.direction === 'outbound' ? null : '102',
        caller_number: x.callerNumber,
        dialed_number: x.dialedNumber,
      })),
    );
    await runTransform({ dataDir, config, logger: silentLogger(), clock: new FixedClock(new Date('2026-11-20T12:00:00Z')) });
    const rows = await withDb(
      warehousePath(dataDir),
      (db) =>
        db.all<{ id: string; rule: string; did_class: string; call_class: string; per_minute: string | null }>(
          `SELECT id, rate_rule AS rule, number_class(did) AS did_class, call_class, per_minute FROM rated_calls`,
        ),
      { readOnly: true },
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    RULE_VECTORS.forEach((x, i) => {
      const r = byId.get(`v${i}`);
      expect({ name: x.name, didClass: r?.did_class, rule: r?.rule, callClass: r?.call_class }).toEqual({
        name: x.name,
        didClass: x.didClass,
        rule: rateRule({ direction: x.direction, billable: true, didClass: x.didClass }),
        callClass: x.callClass,
      });
      expect({ name: x.name, rule: r?.rule }).toEqual({ name: x.name, rule: x.rule });
    });
    // The plan's flat prices: inbound 0.009, toll-free inbound 0.025 a minute.
    const perMinute = (name: string) => byId.get(`v${RULE_VECTORS.findIndex((x) => x.name === name)}`)?.per_minute;
    expect(perMinute('inbound from a toll-free caller to an ordinary DID')).toBe('0.009000');
    expect(perMinute('inbound to a toll-free DID')).toBe('0.025000');
  });
});
