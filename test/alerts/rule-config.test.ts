/** The alerts rule settings in jobs.config.ts: validation that names the field, and per-domain merging. */
import { describe, expect, it } from 'vitest';
import { ruleSettingsRows } from '../../pipeline/alerts/rule-settings.ts';
import { testConfig } from '../support/test-config.ts';

describe('alerts rule settings', () => {
  it('refuses a bad threshold, naming the field', () => {
    expect(() => testConfig({ alerts: { rules: { 'spend-velocity': { hourlyCap: 'lots' } } } })).toThrow(
      /alerts\.rules\.spend-velocity\.hourlyCap: must be a non-negative decimal/,
    );
    expect(() => testConfig({ alerts: { domains: { 'a.example': { rules: { 'no-such-rule': {} } } } } } as never)).toThrow(
      /alerts\.domains\.a\.example\.rules/,
    );
    expect(() => testConfig({ alerts: { businessHours: { start: '18:00', end: '08:00' } } })).toThrow(/alerts\.businessHours/);
  });

  it('merges a domain override over the defaults and leaves out domains where a rule is off', () => {
    const config = testConfig({
      alerts: {
        rules: { 'single-call': { maxAmount: '80' } },
        domains: {
          'big.example': {
            rules: { 'single-call': { maxMinutes: 600, severity: 'info' } },
            businessHours: { days: [1, 2, 3, 4, 5, 6], start: '06:00', end: '22:00' },
          },
          'quiet.example': { rules: { 'single-call': { enabled: false } } },
        },
      },
    });
    const rows = ruleSettingsRows(config.alerts, 'single-call', ['big.example', 'quiet.example', 'plain.example']);
    expect(rows).toEqual([
      {
        domain: 'big.example',
        severity: 'info',
        max_amount: '80',
        max_minutes: 600,
        business_days: [1, 2, 3, 4, 5, 6],
        business_start: '06:00',
        business_end: '22:00',
      },
      {
        domain: 'plain.example',
        severity: 'warning',
        max_amount: '80',
        max_minutes: 180,
        business_days: [1, 2, 3, 4, 5],
        business_start: '07:00',
        business_end: '20:00',
      },
    ]);
  });
});
