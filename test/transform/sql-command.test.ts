import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { runQuery } from '../../pipeline/transform/sql-query.ts';
import { formatArrow, formatCsv, formatJson, formatTable } from '../../pipeline/transform/sql-output.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { deckConfig, writeDomains, writeLake } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('cdrpipe sql', () => {
  it('queries the lake directly before any transform, then the warehouse; no temp files are left', async () => {
    const dataDir = await tempDir();
    await writeDomains(dataDir, [{ domain: 's.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [
      {
        domain: 's.example',
        id: 'x1',
        start: '2026-10-01T10:00:00Z',
        direction: 'outbound',
        talk_s: 61,
        caller_number: '2125550100',
        dialed_number: '+442071234567',
        orig_user: '101',
      },
      {
        domain: 's.example',
        id: 'x2',
        start: '2026-10-02T10:00:00Z',
        direction: 'inbound',
        talk_s: 30,
        caller_number: '3105550000',
        dialed_number: '2125550100',
        term_user: '101',
      },
    ]);
    const lake = await runQuery({ dataDir, sql: 'SELECT count(*)::INTEGER AS n FROM cdrs' });
    expect(lake.source).toBe('lake');
    expect(lake.rows).toEqual([{ n: 2 }]);
    expect((await runQuery({ dataDir, sql: 'SELECT domain, time_zone FROM domains' })).rows).toEqual([
      { domain: 's.example', time_zone: 'UTC' },
    ]);
    await expect(runQuery({ dataDir, sql: 'SELECT * FROM rated_calls' })).rejects.toThrow(/run `cdrpipe transform`/);

    const config = await deckConfig(dataDir);
    await runTransform({ dataDir, config, logger: silentLogger(), clock: new FixedClock(new Date('2026-11-20T00:00:00Z')) });
    expect((await readdir(dataDir)).filter((f) => f.startsWith('.warehouse'))).toEqual([]);

    const r = await runQuery({
      dataDir,
      sql: `SELECT id, charge, billable_s, CAST(billable_s AS BIGINT) AS big, start_time, start_local, local_date, billable, per_minute * 1.5 AS dbl_free
            FROM rated_calls ORDER BY id`,
    });
    expect(r.source).toBe('warehouse');
    expect(formatTable(r)).toMatch(/x1 +0\.020000/);
    expect(formatCsv(r).split('\r\n')[0]).toBe('id,charge,billable_s,big,start_time,start_local,local_date,billable,dbl_free');
    expect(JSON.parse(formatJson(r).split('\n')[0]!)).toMatchObject({ id: 'x1', charge: '0.020000', big: '66' });

    const table = tableFromIPC(formatArrow(r));
    expect(table.numRows).toBe(2);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types.charge).toMatch(/Decimal/);
    expect(types.big).toBe('Int64');
    expect(types.billable_s).toBe('Int32');
    expect(types.start_time).toMatch(/Timestamp/);
    expect(types.local_date).toMatch(/Date/);
    expect(types.billable).toBe('Bool');
    const first = table.get(0)!.toJSON() as Record<string, unknown>;
    expect(first.id).toBe('x1');
    expect(first.big).toBe(66n);
    expect(first.billable).toBe(true);
    // Decimal128: the unscaled integer 20000 at scale 6 = 0.020000
    const charge = table.getChild('charge')!.get(0) as Uint32Array;
    expect(charge[0]).toBe(20000);
    expect((table.schema.fields.find((f) => f.name === 'charge')!.type as { scale: number }).scale).toBe(6);
    expect(table.getChild('start_time')!.get(0)).toBe(Date.parse('2026-10-01T10:00:00Z'));
  });
});
