import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReports } from '../../pipeline/report/run-reports.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { reportsDir } from '../../pipeline/lake/layout.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { deckConfig, writeDomains, writeLake, type FixtureCdr } from '../transform/lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

const clock = new FixedClock(new Date('2026-11-20T12:00:00Z'));
const out = (domain: string, id: string, start: string, talk_s: number, dialed: string): FixtureCdr => ({
  domain,
  id,
  start,
  direction: 'outbound',
  talk_s,
  orig_user: '101',
  caller_number: '2125550100',
  dialed_number: dialed,
});

describe('billing summary: unbillable calls', () => {
  it('lists per domain and reason the answered calls no rate priced, with their talk minutes', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [
      { domain: 'a.example', time_zone: 'UTC' },
      { domain: 'b.example', time_zone: 'UTC' },
    ]);
    await writeLake(dataDir, [
      out('a.example', 'a-ok', '2026-10-05T10:00:00Z', 60, '2125550199'),
      out('a.example', 'a-star', '2026-10-05T10:01:00Z', 90, '*97'),
      out('a.example', 'a-short', '2026-10-05T10:02:00Z', 30, '4411'),
      out('a.example', 'a-za', '2026-10-05T10:03:00Z', 150, '+27115550100'),
      out('b.example', 'b-ok', '2026-10-05T10:00:00Z', 60, '2125550199'),
      out('a.example', 'a-za-sep', '2026-09-05T10:03:00Z', 600, '+27115550100'), // another month
    ]);
    const t = await runTransform({ dataDir, config, logger: silentLogger(), clock });
    expect(t.status).toBe('ok');
    await runReports({
      dataDir,
      config,
      env: { smtpUrl: undefined, mailFrom: 'r@localhost' },
      month: '2026-10',
      send: false,
      logger: silentLogger(),
      clock,
    });
    const dir = reportsDir(dataDir, '2026-10');
    const text = await readFile(join(dir, 'billing-summary.txt'), 'utf8');
    expect(text).toContain('UNBILLABLE CALLS: 3 answered call(s), 4.5 talk min, billed nothing (no rate applies).');
    const lines = text.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toContain('a.example no_deck_prefix 1 2.5');
    expect(lines).toContain('a.example not_e164 2 2.0');
    expect(lines.some((l) => l.startsWith('b.example no_deck_prefix') || l.startsWith('b.example not_e164'))).toBe(false);
    const html = await readFile(join(dir, 'billing-summary.html'), 'utf8');
    expect(html).toContain('Unbillable calls');
    expect(html).toContain('no rate deck prefix');
    expect(html).toContain('not a dialable public number');
  });

  it('has no unbillable section when every answered call was priced', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'a.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [out('a.example', 'a-ok', '2026-10-05T10:00:00Z', 60, '2125550199')]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock });
    await runReports({
      dataDir,
      config,
      env: { smtpUrl: undefined, mailFrom: 'r@localhost' },
      month: '2026-10',
      send: false,
      logger: silentLogger(),
      clock,
    });
    const dir = reportsDir(dataDir, '2026-10');
    expect(await readFile(join(dir, 'billing-summary.txt'), 'utf8')).not.toMatch(/UNBILLABLE/);
    expect(await readFile(join(dir, 'billing-summary.html'), 'utf8')).not.toMatch(/Unbillable calls/);
  });
});
