import { describe, expect, it } from 'vitest';
import { resolveCarrier } from '../../pipeline/carrier/index.ts';
import { ConfigError, UsageError } from '../../pipeline/util/errors.ts';
import { testConfig } from '../support/test-config.ts';

describe('carrier settings', () => {
  it('generic and the presets work without configuration, with the contract defaults', () => {
    const generic = resolveCarrier(testConfig(), 'generic');
    expect(generic.format.columns).toMatchObject({ callId: 'call_id', billedSeconds: 'billed_seconds', cost: 'cost' });
    expect(generic).toMatchObject({
      timeZone: 'UTC',
      currency: 'USD',
      increments: { initial: 6, subsequent: 6 },
      tolerances: { timeSeconds: 5, durationSeconds: 6, cost: '0.01' },
      disputeThresholds: { disputes: 0, phantoms: 0, amount: '0.00' },
    });
    expect(generic.buyDeck).toBeUndefined();
    expect(resolveCarrier(testConfig(), 'sinch').format.columns.cost).toBe('Amount');
  });

  it('a configured carrier takes its preset and overrides; duration tolerance follows its increment', () => {
    const config = testConfig({
      carriers: {
        acme: {
          preset: 'didww',
          timeZone: 'Europe/Berlin',
          increments: { initial: 60, subsequent: 60 },
          buyDeck: 'reports/rates/standard.csv',
        },
        custom: { columns: { startTime: 'When', from: 'A', to: 'B', billedMinutes: 'Mins', cost: 'Cost' }, delimiter: '|' },
      },
    });
    const acme = resolveCarrier(config, 'acme');
    expect(acme.format.name).toBe('didww');
    expect(acme.timeZone).toBe('Europe/Berlin');
    expect(acme.tolerances.durationSeconds).toBe(60);
    expect(acme.buyDeck).toMatch(/reports\/rates\/standard\.csv$/);
    expect(resolveCarrier(config, 'custom')).toMatchObject({
      delimiter: '|',
      format: { name: 'custom', columns: { billedMinutes: 'Mins' } },
    });
  });

  it('refuses an unknown carrier (exit 2) and names a bad config field', () => {
    expect(() => resolveCarrier(testConfig(), 'nobody')).toThrow(UsageError);
    const bad = (carriers: unknown) => () => testConfig({ carriers: carriers as never });
    expect(bad({ x: { columns: { startTime: 'a', from: 'b', to: 'c', cost: 'd' } } })).toThrow(/carriers\.x\.columns\.billedSeconds/);
    expect(bad({ x: { preset: 'nope' } })).toThrow(ConfigError);
    expect(bad({ 'Bad Name': {} })).toThrow(/carriers\.Bad Name/);
    expect(bad({ x: { timeZone: 'Mars/Olympus' } })).toThrow(/carriers\.x\.timeZone/);
  });
});
