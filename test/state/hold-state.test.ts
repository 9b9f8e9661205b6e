import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../pipeline/config/load-config.ts';
import type { Db } from '../../pipeline/db/duckdb.ts';
import { holdState, withState } from '../../pipeline/state/index.ts';
import { tempDir } from '../support/temp-dir.ts';

const STATE_INDEX = fileURLToPath(new URL('../../pipeline/state/index.ts', import.meta.url));
const INSERT_SEND = `INSERT INTO sends (report, domain, month, recipient, status, attempts, updated_at)
  VALUES ('monthly-usage', $domain, '2026-10', 'usage@example.com', 'pending', 1, now())`;

async function sendDomains(dataDir: string): Promise<string[]> {
  const rows = await withState(dataDir, (db) => db.all<{ domain: string }>(`SELECT domain FROM sends ORDER BY domain`));
  return rows.map((r) => r.domain);
}

/** True once `db` no longer answers (its instance was closed). */
async function isClosed(db: Db): Promise<boolean> {
  try {
    await db.all('SELECT 1');
    return false;
  } catch {
    return true;
  }
}

describe('holdState', () => {
  it('writes under a hold share one open, which the release closes', async () => {
    const dataDir = await tempDir();
    const hold = holdState(dataDir);
    const seen: Db[] = [];
    for (const domain of ['a.example', 'b.example']) {
      await withState(dataDir, async (db) => {
        seen.push(db);
        await db.run(INSERT_SEND, { domain });
      });
    }
    expect(seen[1]).toBe(seen[0]);
    expect(await isClosed(seen[0]!)).toBe(false);
    await hold.release();
    expect(await isClosed(seen[0]!)).toBe(true);
    expect(await sendDomains(dataDir)).toEqual(['a.example', 'b.example']);
  });

  it('lets the file go when unused for a while, and opens it again on the next use', async () => {
    const dataDir = await tempDir();
    const hold = holdState(dataDir);
    try {
      let first: Db | undefined;
      await withState(dataDir, async (db) => void (first = db));
      for (let i = 0; i < 50 && !(await isClosed(first!)); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await isClosed(first!)).toBe(true);
      await withState(dataDir, (db) => db.run(INSERT_SEND, { domain: 'c.example' }));
    } finally {
      await hold.release();
    }
    expect(await sendDomains(dataDir)).toEqual(['c.example']);
  });

  it('a write committed under a hold survives the process being killed before the release', async () => {
    const dataDir = await tempDir();
    const script = `
      import { holdState, withState } from ${JSON.stringify(STATE_INDEX)};
      holdState(process.argv[1]);
      await withState(process.argv[1], (db) => db.run(${JSON.stringify(INSERT_SEND)}, { domain: 'killed.example' }));
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(await sendDomains(dataDir)).toEqual(['killed.example']);
  });
});
