/** One config builder for tests, validated by the same parseConfig the product uses. */
import { parseConfig } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig, CdrpipeConfigInput } from '../../pipeline/config/config-schema.ts';

/** The four shipped job kinds on their usual schedules. */
export const TEST_JOBS: CdrpipeConfigInput['jobs'] = {
  ingest: { task: 'ingest', cron: '*/15 * * * *' },
  'late-sweep': { task: 'late-sweep', cron: '30 2 * * *', options: { days: 3 } },
  'monthly-reports': { task: 'monthly-reports', cron: '0 6 1 * *' },
  reconcile: { task: 'reconcile', cron: '0 7 * * *' },
};

/** One plan over the shipped standard deck. */
export const TEST_PLAN: CdrpipeConfigInput['plans'][string] = {
  version: 't1',
  rateDeck: 'reports/rates/standard.csv',
  inbound: { perMinute: '0.01' },
  tollFreeInbound: { perMinute: '0.02' },
};

export type TestConfigOverrides = Omit<Partial<CdrpipeConfigInput>, 'reseller' | 'ingest'> & {
  /** Merged over the test reseller field by field (give a field `undefined` to drop it). */
  reseller?: Partial<CdrpipeConfigInput['reseller']>;
  /** Merged over the product's ingest defaults field by field. */
  ingest?: Partial<NonNullable<CdrpipeConfigInput['ingest']>>;
};

/**
 * A valid config for tests: a reseller with billing and operator addresses, one `standard` plan,
 * customers on it with `usage@{domain}` as recipient, and the four usual jobs. `plans`,
 * `customers` and `jobs` in `overrides` replace the defaults whole.
 */
export function testConfig(overrides: TestConfigOverrides = {}): CdrpipeConfig {
  const { reseller, ingest, ...rest } = overrides;
  return parseConfig({
    plans: { standard: TEST_PLAN },
    customers: { defaults: { plan: 'standard', recipients: ['usage@{domain}'] } },
    jobs: TEST_JOBS,
    ...rest,
    reseller: {
      name: 'Test Co',
      timeZone: 'America/New_York',
      billingEmails: ['billing@test.example'],
      operatorEmail: 'ops@test.example',
      ...reseller,
    },
    ingest: { ...ingest },
  });
}
