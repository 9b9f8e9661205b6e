import { describe, expect, it } from 'vitest';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { deckConfig, writeDomains, writeLake } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('runTransform', () => {
  it('builds every model on an empty lake', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: new FixedClock(new Date('2026-11-02T00:00:00Z')) });
    expect(s.lakeEmpty).toBe(true);
    expect(s.status).toBe('ok');
    expect(s.models.map((m) => m.name)).toContain('call_quality');
    const n = await withDb(warehousePath(dataDir), (db) => db.one<{ n: number }>('SELECT count(*)::INTEGER n FROM usage_monthly'), {
      readOnly: true,
    });
    expect(n?.n).toBe(0);
  });

  it('rates a small lake', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'acme.example', time_zone: 'US/Pacific' }]);
    await writeLake(dataDir, [
      {
        domain: 'acme.example',
        id: 'a1',
        start: '2026-10-10T17:00:00Z',
        direction: 'outbound',
        talk_s: 30,
        orig_user: '101',
        caller_number: '2125550100',
        dialed_number: '+442071234567',
      },
      {
        domain: 'acme.example',
        id: 'a2',
        start: '2026-10-10T18:00:00Z',
        direction: 'inbound',
        talk_s: 61,
        term_user: '101',
        caller_number: '4155550123',
        dialed_number: '2125550100',
      },
      {
        domain: 'acme.example',
        id: 'a3',
        start: '2026-10-10T19:00:00Z',
        direction: 'missed',
        talk_s: 0,
        term_user: '102',
        caller_number: '4155550123',
        dialed_number: '2125550100',
      },
      {
        domain: 'acme.example',
        id: 'a4',
        start: '2026-10-10T19:30:00Z',
        direction: 'internal',
        talk_s: 20,
        orig_user: '101',
        term_user: '102',
        dialed_number: '102',
      },
      {
        domain: 'acme.example',
        id: 'a5',
        start: '2026-10-10T19:40:00Z',
        direction: 'inbound',
        talk_s: 0,
        term_user: '101',
        reason: 'Term: Reg Expired',
      },
    ]);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: new FixedClock(new Date('2026-11-20T00:00:00Z')) });
    expect(s.tests.filter((t) => t.status !== 'pass')).toEqual([]);
    const rows = await withDb(
      warehousePath(dataDir),
      (db) =>
        db.all('SELECT id, call_class, rate_rule, billable, billable_s, charge, rate_prefix, local_month FROM rated_calls ORDER BY id'),
      { readOnly: true },
    );
    expect(rows).toMatchObject([
      { id: 'a1', call_class: 'international', rate_rule: 'deck', billable_s: 60, charge: '0.020000', rate_prefix: '+44' },
      { id: 'a2', call_class: 'domestic', rate_rule: 'inbound', billable_s: 66, charge: '0.010000' },
      { id: 'a3', billable_s: 0, charge: '0.000000' },
      { id: 'a4', call_class: 'internal', billable_s: 0 },
      { id: 'a5', billable: false, rate_rule: 'none' },
    ]);
    expect(s.newlyFrozen).toBe(1);
  });
});
