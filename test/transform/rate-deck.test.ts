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
