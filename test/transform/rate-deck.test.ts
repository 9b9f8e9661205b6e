import { describe, expect, it } from 'vitest';
import { parseRateDeck } from '../../pipeline/transform/rate-deck.ts';
import { ConfigError, exitCodeOf } from '../../pipeline/util/errors.ts';

const head = 'prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from\n';

function failure(text: string): ConfigError {
  try {
    parseRateDeck(text, 'decks/us.csv');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the deck to be refused');
}

describe('rate deck errors', () => {
  it('a bad deck is a configuration error (exit 2) naming the file, line and field, also when read back from state', () => {
    const e = failure(head + '+1,ok,0.01,60,6,0,0,2026-01-01\n\n# note\n+44,x,-0.5,60,6,0,0,2026-01-01\n');
    expect(e.message).toMatch(/^decks\/us\.csv line 5: per_minute "-0\.5" must be a non-negative decimal/);
    expect(e.field).toBe('per_minute');
    expect(exitCodeOf(e)).toBe(2);
    expect(failure(head + '+1,x,0.1,6,6,0,0,2026-02-30\n').field).toBe('effective_from');
    expect(failure(head + 'abc,x,0.1,6,6,0,0,2026-01-01\n').field).toBe('prefix');
    expect(failure(head + '+1,x,0.1,0,6,0,0,2026-01-01\n').field).toBe('initial_increment');
    expect(failure('prefix,rate\n').message).toMatch(/decks\/us\.csv: header lacks/);
  });

  it('a price with more than 6 decimals is refused rather than rounded', () => {
    expect(failure(head + '+1,x,0.0000001,60,6,0,0,2026-01-01\n').field).toBe('per_minute');
  });
});

describe('rate deck CSV reading', () => {
  it('a quoted description may hold commas, quotes and a line break; line numbers stay those of the file', () => {
    const rows = parseRateDeck(
      head + '+44,"United Kingdom, mobile ""EE""",0.02,60,6,0,0,2026-01-01\n+33,"France\nfixed",0.01,60,6,0,0,2026-01-01\n',
    );
    expect(rows.map((r) => [r.prefix, r.description, r.perMinute])).toEqual([
      ['+44', 'United Kingdom, mobile "EE"', '0.020000'],
      ['+33', 'France\nfixed', '0.010000'],
    ]);
    const e = failure(head + '+33,"France\r\nfixed",0.01,60,6,0,0,2026-01-01\r\n+34,Spain,x,60,6,0,0,2026-01-01\r\n');
    expect(e.message).toMatch(/^decks\/us\.csv line 4: per_minute "x"/);
  });

  it('a spreadsheet export with a BOM, CRLF line ends, comment and blank rows reads like plain CSV', () => {
    const text =
      '\uFEFF' +
      head.replace('\n', '\r\n') +
      '# reviewed 2026-01\r\n+1,"US, all",0.01,6,6,0,0,2026-01-01\r\n,,,,,,,\r\n  \r\n+1800,Toll free #1,0,6,6,0,,2026-01-01\r\n';
    const rows = parseRateDeck(text, 'decks/us.csv');
    expect(rows.map((r) => [r.prefix, r.description, r.connectFee])).toEqual([
      ['+1', 'US, all', '0.000000'],
      ['+1800', 'Toll free #1', '0.000000'],
    ]);
    const e = failure(text + '+44,UK,0.02,60,6,0,0,2026-13-01\r\n');
    expect(e.message).toMatch(/^decks\/us\.csv line 7: effective_from/);
  });

  it('malformed CSV is a configuration error naming the file, line and column', () => {
    const e = failure(head + '+1,US,0.01,6,6,0,0,2026-01-01\n+44,U"K,0.02,60,6,0,0,2026-01-01\n');
    expect(e.message).toMatch(/^decks\/us\.csv line 3: description is not valid CSV/);
    expect(e.field).toBe('description');
    expect(exitCodeOf(e)).toBe(2);
    expect(failure(head + '+44,"UK,0.02,60,6,0,0,2026-01-01\n').message).toMatch(/^decks\/us\.csv line \d+: description is not valid CSV/);
  });
});
