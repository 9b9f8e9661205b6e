import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { Db } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { deckConfig, writeLake } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

const clock = new FixedClock(new Date('2026-11-20T00:00:00Z'));
const call = (id: string, start: string) => ({
  domain: 'w.example',
  id,
  start,
  direction: 'outbound',
  talk_s: 30,
  caller_number: '2125550100',
  dialed_number: '2125550199',
  orig_user: '101',
});

describe('warehouse swap', () => {
  it('a reader holding the old warehouse keeps reading it while a new one is renamed into place', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeLake(dataDir, [call('a', '2026-10-01T10:00:00Z')]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock });
    const reader = await Db.open(warehousePath(dataDir), { readOnly: true });
    try {
      await writeLake(dataDir, [call('a', '2026-10-01T10:00:00Z'), call('b', '2026-10-02T10:00:00Z')]);
      await runTransform({ dataDir, config, logger: silentLogger(), clock });
      expect(await reader.one('SELECT count(*)::INTEGER AS n FROM rated_calls')).toEqual({ n: 1 });
    } finally {
      reader.close();
    }
    const fresh = await Db.open(warehousePath(dataDir), { readOnly: true });
    try {
      expect(await fresh.one('SELECT count(*)::INTEGER AS n FROM rated_calls')).toEqual({ n: 2 });
    } finally {
      fresh.close();
    }
  });

  it('an aborted transform leaves the previous warehouse and no temp files', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeLake(dataDir, [call('a', '2026-10-01T10:00:00Z')]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(runTransform({ dataDir, config, logger: silentLogger(), clock, signal: ac.signal })).rejects.toThrow(/stop/);
    expect(existsSync(warehousePath(dataDir))).toBe(true);
    expect((await readdir(dataDir)).filter((f) => f.startsWith('.warehouse'))).toEqual([]);
  });
});
