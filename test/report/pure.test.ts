import { describe, expect, it } from 'vitest';
import { formatDuration, formatInt, formatMinutes, formatRatioPercent, formatShare, percentChange } from '../../pipeline/report/format.ts';
import { csvField, csvNumber, csvRow, neutraliseFormula, toCsv } from '../../pipeline/util/csv.ts';
import { localMonthPeriod } from '../../pipeline/report/period.ts';
import { csvCharge } from '../../pipeline/report/calls-csv.ts';
import { rng } from './fixtures/warehouse-fixture.ts';
import { parseCsv } from '../support/parse-csv.ts';

describe('figure formatting', () => {
  it('minutes have one exact decimal', () => {
    expect(formatMinutes(0)).toBe('0.0');
    expect(formatMinutes(90)).toBe('1.5');
    expect(formatMinutes(3)).toBe('0.1'); // 0.05 rounds half-up
    expect(formatMinutes(2)).toBe('0.0');
    expect(formatMinutes('3600000')).toBe('60,000.0');
  });
  it('integers, durations, ratios, shares', () => {
    expect(formatInt('1234567')).toBe('1,234,567');
    expect(formatInt(0)).toBe('0');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatRatioPercent('0.8125')).toBe('81.3%');
    expect(formatRatioPercent('1.0000')).toBe('100.0%');
    expect(formatShare(1, 3)).toBe('33.3%');
    expect(formatShare(5, 0)).toBe('0.0%');
  });
  it('month-over-month change', () => {
    expect(percentChange(110, 100)).toEqual({ trend: 'up', text: '+10.0%' });
    expect(percentChange(90, 100)).toEqual({ trend: 'down', text: '-10.0%' });
    expect(percentChange(100, 100)).toEqual({ trend: 'flat', text: '0.0%' });
    expect(percentChange(5, 0)).toEqual({ trend: 'new', text: 'new' });
    expect(percentChange(0, 0)).toEqual({ trend: 'none', text: '–' });
    expect(percentChange(1, 3).text).toBe('-66.7%');
  });
});

describe('local month period', () => {
  it('knows month lengths, leap years and weekdays', () => {
    const oct = localMonthPeriod('2026-10', 'America/New_York');
    expect(oct.days).toHaveLength(31);
    expect(oct.days[0]).toMatchObject({ date: '2026-10-01', weekday: 'Thu', weekend: false });
    expect(oct.days[2]).toMatchObject({ weekday: 'Sat', weekend: true });
    expect(oct.label).toBe('October 2026');
    expect(localMonthPeriod('2028-02', 'UTC').days).toHaveLength(29);
    expect(localMonthPeriod('2026-02', 'UTC').lastDay).toBe('2026-02-28');
  });
});

describe('CSV', () => {
  const dangerous = ['=', '+', '-', '@', '\t', '\r'];
  it.each(dangerous)('neutralises a text cell starting with %j', (ch) => {
    expect(neutraliseFormula(`${ch}1+2`)).toBe(`'${ch}1+2`);
    const cell = csvField(`${ch}SUM(A1:A9)`);
    const [[back]] = parseCsv(cell + '\r\n') as [[string]];
    expect(back.startsWith(`'${ch}`)).toBe(true);
  });
  it('leaves harmless text and our own numbers alone', () => {
    expect(csvField('Alice')).toBe('Alice');
    expect(csvField(" 'quoted")).toBe(" 'quoted");
    expect(csvField(csvNumber('-1.50'))).toBe('-1.50');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(() => csvNumber('=1')).toThrow(/not a plain decimal/);
  });
  it('neutralises formulas behind white space or in full-width form, and never passes a non-number as a number', () => {
    expect(csvField(' =1+2')).toBe("' =1+2");
    expect(csvField('\n@SUM(1)')).toBe(`"'\n@SUM(1)"`);
    expect(csvField('\uFF1D1+2')).toBe("'\uFF1D1+2");
    expect(csvField(-Infinity)).toBe("'-Infinity");
    expect(csvField(Number.NaN)).toBe('NaN');
    expect(csvField(-1e-7)).toBe('-1e-7');
    expect(csvField(-12n)).toBe('-12');
    expect(csvField(csvNumber('-2.5e3'))).toBe('-2.5e3');
    expect(csvField('=1+2', { formulaSafe: false })).toBe('=1+2');
    expect(toCsv(['a'], [['-1+2']], { formulaSafe: false })).toBe('a\r\n-1+2\r\n');
  });
  it('quotes a ; or TAB too, so a ;-separated spreadsheet keeps the cell whole', () => {
    expect(csvField('x;=1+2')).toBe('"x;=1+2"');
    expect(csvField('x\ty')).toBe('"x\ty"');
  });
  it('quotes per RFC 4180 only when needed', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://evil.example","click")')).toBe(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csvRow(['a', 'b c', ''])).toBe('a,b c,');
    expect(toCsv(['h1', 'h2'], [['1', '2']])).toBe('h1,h2\r\n1,2\r\n');
  });
  it('round-trips every generated string through a strict RFC 4180 reader', () => {
    const r = rng(42);
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\r', '\n', '\t', '=', '+', '-', '@', "'", 'é', '😀', ';'];
    const rows: string[][] = [];
    for (let i = 0; i < 2000; i++) {
      const row: string[] = [];
      for (let c = 0; c < 4; c++) {
        let s = '';
        const len = Math.floor(r() * 8);
        for (let k = 0; k < len; k++) s += alphabet[Math.floor(r() * alphabet.length)];
        row.push(s);
      }
      rows.push(row);
    }
    const parsed = parseCsv(toCsv(['a', 'b', 'c', 'd'], rows));
    expect(parsed).toHaveLength(rows.length + 1);
    rows.forEach((row, i) => {
      row.forEach((cell, c) => {
        const got = parsed[i + 1]![c]!;
        expect(got).toBe(/^(?:[\t\r]|\s*[=+\-@])/.test(cell) ? `'${cell}` : cell);
        expect(/^(?:[\t\r]|\s*[=+\-@])/.test(got)).toBe(false);
      });
    });
  });
  it('keeps charge digits exact', () => {
    expect(csvCharge('1.230000', 2)).toBe('1.23');
    expect(csvCharge('1.234500', 2)).toBe('1.234500');
    expect(csvCharge('0', 2)).toBe('0.00');
  });
});
