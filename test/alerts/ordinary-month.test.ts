/**
 * False positives: the default rules over a month of the simulator's ordinary traffic for 36
 * domains (no fraud injected) raise nothing. The lake is built from the simulator's generator
 * with the lake's own row SQL (the bench's fixture), which is much faster than paging it over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../../pipeline/alerts/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { buildLakeFixture } from '../../bench/lib/lake-fixture.ts';
import { ensurePageCorpus } from '../../bench/lib/page-corpus.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

describe('default alert rules on ordinary traffic', () => {
  it('raise nothing over a month of 36 domains', async () => {
    const dir = await tempDir('cdrpipe-alerts-month-');
    // Mid-September to the end of October: October is judged with its baselines and history.
    const corpus = await ensurePageCorpus(
      {
        cacheDir: dir,
        seed: 1,
        domains: 36,
        targetRows: 40_000,
        from: new Date('2026-09-15T00:00:00Z'),
        to: new Date('2026-11-01T00:00:00Z'),
        month: '2026-10',
      },
      () => {},
    );
    const dataDir = `${dir}/data`;
    await buildLakeFixture(corpus, dataDir, 1);
    const ctx = { dataDir, config: testConfig(), clock: new FixedClock(new Date('2026-11-02T00:00:00Z')), logger: silentLogger() };
    const r = await evaluateAlerts(ctx, { kind: 'backtest', from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') });
    expect(r.callsEvaluated).toBeGreaterThan(20_000);
    expect(r.findings.map((f) => `${f.rule} ${f.domain} ${f.key} ${f.windowStart.toISOString()}: ${f.message}`)).toEqual([]);
  }, 300_000);
});
