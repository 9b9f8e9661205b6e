import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { Db } from '../../pipeline/db/duckdb.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import {
  formatMoney,
  formatMoneyText,
  formatScaled,
  parseDecimal,
  parseMoney,
  roundMoney,
  sumMoney,
  toMoney6,
} from '../../pipeline/util/money.ts';

describe('decimal money', () => {
  it('parses and rounds half away from zero at the requested scale', () => {
    expect(parseDecimal('12.345', 2)).toBe(1235n);
    expect(parseDecimal('12.344999', 2)).toBe(1234n);
    expect(parseDecimal('0.005', 2)).toBe(1n);
    expect(parseDecimal('-1.005', 2)).toBe(-101n);
    expect(parseDecimal('7', 3)).toBe(7000n);
    expect(() => parseDecimal('1e3', 2)).toThrow(/not a decimal/);
    expect(() => parseDecimal('', 2)).toThrow(/not a decimal/);
  });
  it('writes scaled values back exactly', () => {
    expect(formatScaled(5n, 2)).toBe('0.05');
    expect(formatScaled(-5n, 2)).toBe('-0.05');
    expect(formatScaled(123456789n, 2, { grouping: true })).toBe('1,234,567.89');
    expect(formatScaled(42n, 0)).toBe('42');
  });
  it('sums without binary floating point', () => {
    expect(sumMoney(Array(10).fill('0.1'))).toBe('1.000000');
    expect(sumMoney(['0.000001', '0.000002'])).toBe('0.000003');
    expect(sumMoney(Array(1000).fill('0.01'))).toBe('10.000000');
  });
  it('formats money with symbols, grouping and the plan decimals', () => {
    expect(formatMoney('1234.5', 'USD', 2)).toBe('$1,234.50');
    expect(formatMoney('0.125000', 'EUR', 2)).toBe('€0.13');
    expect(formatMoney('3', 'CHF', 2)).toBe('CHF 3.00');
    expect(formatMoney('-2.5', 'USD', 2)).toBe('-$2.50');
    expect(formatMoney('9999999999999.999999', 'USD', 4)).toBe('$10,000,000,000,000.0000');
  });
});

describe('money at one scale, one rounding rule', () => {
  it('money text is exact micro-units and round-trips without floats', () => {
    expect(parseMoney('0.0125')).toBe(12500n);
    expect(parseMoney('-2.5')).toBe(-2_500_000n);
    expect(formatMoneyText(parseMoney('12.5'))).toBe('12.500000');
    expect(toMoney6('1.5')).toBe('1.500000');
    expect(() => parseMoney('1e-3')).toThrow(/plain decimal/);
    expect(() => parseMoney('0.0000001')).toThrow(/at most 6 decimals/);
  });

  it('rounds to the plan decimals half-up, never truncates', () => {
    expect(formatMoneyText(1_234_567n, 2)).toBe('1.23');
    expect(formatMoneyText(5_000n, 2)).toBe('0.01');
    expect(formatMoneyText(1_235_000n, 2)).toBe('1.24');
    expect(formatMoneyText(999_999n, 0)).toBe('1');
    expect(roundMoney(-5_000n, 2)).toBe(-10_000n);
    // An exact fraction is rounded once: 61 s at 0.01/min is 0.0101666.. -> 0.01.
    expect(roundMoney(61n * 10_000n, 2, 60n)).toBe(10_000n);
  });

  it('agrees to the cent with the warehouse: DuckDB ROUND of DECIMAL(18,6) and the line_charge macro', async () => {
    const db = await Db.open(':memory:');
    try {
      await db.exec(await readFile(resolveProjectPath('reports/macros/money.sql'), 'utf8'));
      const values = ['0.005000', '0.015000', '1.234567', '1.235000', '2.444999', '2.445000', '0.000500', '7.999950', '10.125000'];
      for (const decimals of [0, 1, 2, 3, 4]) {
        for (const v of values) {
          const row = await db.one<{ r: string }>(`SELECT CAST(round($1::DECIMAL(18,6), $2::INTEGER) AS DECIMAL(18,6))::VARCHAR AS r`, [
            v,
            decimals,
          ]);
          expect({ v, decimals, r: formatMoneyText(parseMoney(v), decimals) }).toEqual({
            v,
            decimals,
            r: formatScaled(parseDecimal(row!.r, decimals), decimals),
          });
        }
      }
      // One call line: 61 s at 0.0125/min plus a 0.005 connect fee, to 2 decimals.
      const line = await db.one<{ c: string }>(`SELECT line_charge(61, 0.0125::DECIMAL(18,6), 0.005::DECIMAL(18,6), 2)::VARCHAR AS c`);
      expect(formatMoneyText(roundMoney(61n * parseMoney('0.0125') + parseMoney('0.005') * 60n, 2, 60n))).toBe(line!.c);
    } finally {
      db.close();
    }
  });
});
