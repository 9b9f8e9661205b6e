import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../pipeline/cli/main.ts';
import { lakeDir, partitionDir, reportsDir, statePath } from '../../pipeline/lake/layout.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { runQuery } from '../../pipeline/transform/sql-query.ts';
import { ReadOnlyQueryError, tableFunctionsIn } from '../../pipeline/transform/read-only-sql.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { runCli } from '../support/cli.ts';
import { deckConfig, writeDomains, writeLake } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Every file and directory under `dir` with its content hash: any change anywhere shows. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const key = relative(dir, p);
      if (e.isDirectory()) {
        out[key + '/'] = 'dir';
        await walk(p);
      } else {
        const s = await stat(p);
        out[key] = `${createHash('sha256')
          .update(await readFile(p))
          .digest('hex')} ${s.size} ${s.mtimeMs}`;
      }
    }
  };
  await walk(dir);
  return out;
}

/** Runs a command (not the CLI) to its end, optionally as another user. */
function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  ids: { uid?: number; gid?: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, ...ids });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('close', (status) => ok({ status, stdout, stderr }));
  });
}

async function makeDataDir(): Promise<string> {
  const dataDir = await tempDir('cdrpipe-sql-ro-');
  await writeDomains(dataDir, [{ domain: 'ro.example', time_zone: 'UTC' }]);
  await writeLake(dataDir, [
    {
      domain: 'ro.example',
      id: 'r1',
      start: '2026-10-01T10:00:00Z',
      direction: 'outbound',
      talk_s: 61,
      caller_number: '2125550100',
      dialed_number: '+442071234567',
      orig_user: '101',
    },
    {
      domain: 'ro.example',
      id: 'r2',
      start: '2026-10-02T10:00:00Z',
      direction: 'inbound',
      talk_s: 30,
      caller_number: '3105550000',
      dialed_number: '2125550100',
      term_user: '101',
    },
  ]);
  await withState(dataDir, async (s) => {
    await s.run(
      `INSERT INTO sends (report, domain, month, recipient, status, updated_at) VALUES ('monthly-usage', 'ro.example', '2026-10', 'a@ro.example', 'sent', now())`,
    );
  });
  await mkdir(reportsDir(dataDir, '2026-10'), { recursive: true });
  await writeFile(join(reportsDir(dataDir, '2026-10'), 'reconciliation.csv'), 'month,domain\r\n');
  return dataDir;
}

/** Statements that would change something, each with where it aims. */
function attacks(dataDir: string): string[] {
  const lakeFile = join(partitionDir(dataDir, '2026-10', 'ro.example'), 'part-0.parquet');
  const state = statePath(dataDir);
  return [
    `COPY (SELECT 1 AS id) TO '${lakeFile}' (FORMAT parquet)`,
    `COPY (SELECT 1 AS x) TO '${join(reportsDir(dataDir, '2026-10'), 'reconciliation.csv')}'`,
    `ATTACH '${state}' AS s; DELETE FROM s.sends`,
    `ATTACH '${state}' AS s`,
    `SELECT 1; DELETE FROM sends`,
    `CREATE TABLE x AS SELECT 1 AS a`,
    `CREATE OR REPLACE VIEW cdrs AS SELECT 1 AS a`,
    `INSTALL httpfs`,
    `LOAD httpfs`,
    `SET enable_external_access = true`,
    `SET allowed_directories = ['/']`,
    `SET profiling_output = '${join(lakeDir(dataDir), 'profile.json')}'`,
    `PRAGMA enable_profiling = 'json'`,
    `EXPORT DATABASE '${join(dataDir, 'export')}'`,
    `CHECKPOINT`,
    `CALL checkpoint()`,
    `SELECT * FROM checkpoint()`,
    `SELECT * FROM enable_logging(storage = 'file', storage_path = '${join(lakeDir(dataDir), 'logs')}')`,
    `FROM "Enable_Logging"(storage = 'file', storage_path = '${join(dataDir, 'logs')}')`,
    `SELECT * FROM (SELECT 1) t, LATERAL (SELECT * FROM enable_profiling(save_location = '${join(lakeDir(dataDir), 'p.json')}'))`,
    `SELECT * FROM query('SELECT * FROM enable_logging()')`,
    `SELECT * FROM read_text('${state}')`,
    `SELECT * FROM read_csv('${join(lakeDir(dataDir), '..', 'state.duckdb')}')`,
  ];
}

describe('cdrpipe sql is read-only', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('refuses every statement that could change the data directory, before and after the first transform, and changes nothing', async () => {
    const dataDir = await makeDataDir();
    for (const phase of ['lake', 'warehouse'] as const) {
      if (phase === 'warehouse') {
        await runTransform({
          dataDir,
          config: await deckConfig(dataDir),
          logger: silentLogger(),
          clock: new FixedClock(new Date('2026-11-20T00:00:00Z')),
        });
      }
      const before = await snapshot(dataDir);
      for (const sql of attacks(dataDir)) {
        const err = await runQuery({ dataDir, sql }).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err, `${phase}: ${sql}`).toBeInstanceOf(Error);
        expect(err!.message, `${phase}: ${sql}`).toMatch(
          /read-only|reads only the lake|configuration has been locked|Cannot (enable|change)/,
        );
      }
      expect(await snapshot(dataDir), phase).toEqual(before);
      // Reading still works, including the lake views and the catalog.
      const ok = await runQuery({ dataDir, sql: `SELECT count(*)::INTEGER AS n FROM cdrs; ` });
      expect(ok.source).toBe(phase);
      expect(ok.rows).toEqual([{ n: 2 }]);
      expect((await runQuery({ dataDir, sql: 'DESCRIBE cdrs' })).rows.length).toBeGreaterThan(5);
      expect(
        (
          await runQuery({
            dataDir,
            sql: `SELECT count(*)::INTEGER AS n FROM read_parquet('${join(lakeDir(dataDir), 'cdrs', '**', '*.parquet')}')`,
          })
        ).rows,
      ).toEqual([{ n: 2 }]);
      expect(await snapshot(dataDir), phase).toEqual(before);
    }
    await withState(dataDir, async (s) => expect(await s.all(`SELECT domain FROM sends`)).toEqual([{ domain: 'ro.example' }]), {
      readOnly: true,
    });
  }, 240_000);

  it('names what it refused and exits 2; --out may not point into the data directory', async () => {
    const dataDir = await makeDataDir();
    await expect(runQuery({ dataDir, sql: `CREATE TABLE x AS SELECT 1` })).rejects.toThrow(ReadOnlyQueryError);
    await expect(runQuery({ dataDir, sql: `SELECT * FROM enable_logging()` })).rejects.toThrow(/does not run enable_logging\(\)/);
    expect(
      tableFunctionsIn({
        a: [
          { type: 'TABLE_FUNCTION', function: { function_name: 'range' } },
          { b: { type: 'TABLE_FUNCTION', function: { function_name: 'glob' } } },
        ],
      }),
    ).toEqual(['range', 'glob']);

    process.env.CDRPIPE_DATA_DIR = dataDir;
    const before = await snapshot(dataDir);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const errs: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (errs.push(String(chunk)), true));
    try {
      expect(await main(['node', 'cdrpipe', 'sql', `DELETE FROM cdrs`])).toBe(2);
      expect(errs.join('')).toMatch(/read-only/);
      expect(await main(['node', 'cdrpipe', 'sql', 'SELECT 1 AS a', '--format', 'csv', '--out', join(lakeDir(dataDir), 'x.csv')])).toBe(2);
      expect(
        await main(['node', 'cdrpipe', 'sql', 'SELECT 1 AS a', '--format', 'csv', '--out', join(dataDir, 'reports', '..', 'x.csv')]),
      ).toBe(2);
      expect(errs.join('')).toMatch(/--out .*inside the data directory/);
    } finally {
      out.mockRestore();
      err.mockRestore();
      process.exitCode = undefined;
    }
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('works on a read-only data directory (as an unprivileged user when the tests run as root)', async () => {
    const dataDir = await makeDataDir();
    const outDir = await tempDir('cdrpipe-sql-out-');
    // Root ignores permission bits: run the command as `nobody` instead, which they do bind.
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
    const setModes = async (dir: string, dirMode: number, fileMode: number): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await setModes(p, dirMode, fileMode);
        await chmod(p, e.isDirectory() ? dirMode : fileMode);
      }
      await chmod(dir, dirMode);
    };
    const cli = (args: string[]) => runCli(['sql', ...args], { env: { CDRPIPE_DATA_DIR: dataDir, HOME: outDir }, uid: ids.uid });
    try {
      await chmod(outDir, 0o777);
      await setModes(dataDir, 0o555, 0o444);
      const probe = await run(
        process.execPath,
        ['-e', `require('node:fs').writeFileSync(${JSON.stringify(join(dataDir, 'probe'))}, 'x')`],
        {},
        ids,
      );
      if (probe.status === 0) {
        console.log('skipped: this file system lets the test user write a read-only directory');
        return;
      }
      const before = await snapshot(dataDir);
      const lake = await cli(['SELECT id, talk_s FROM cdrs ORDER BY id', '--format', 'csv']);
      expect(lake.stderr).toBe('');
      expect(lake.code).toBe(0);
      expect(lake.stdout).toBe('id,talk_s\r\nr1,61\r\nr2,30\r\n');
      const copy = await cli([`COPY (SELECT 1 AS id) TO '${join(partitionDir(dataDir, '2026-10', 'ro.example'), 'part-0.parquet')}'`]);
      expect(copy.code).toBe(2);
      expect(copy.stderr).toMatch(/read-only/);
      expect(await snapshot(dataDir)).toEqual(before);

      await setModes(dataDir, 0o755, 0o644);
      await runTransform({
        dataDir,
        config: await deckConfig(dataDir),
        logger: silentLogger(),
        clock: new FixedClock(new Date('2026-11-20T00:00:00Z')),
      });
      await setModes(dataDir, 0o555, 0o444);
      const after = await snapshot(dataDir);
      const wh = await cli(['SELECT id, billable_s FROM rated_calls ORDER BY id', '--format', 'json', '--out', join(outDir, 'calls.json')]);
      expect(wh.stderr).toBe('');
      expect(wh.code).toBe(0);
      expect((await readFile(join(outDir, 'calls.json'), 'utf8')).split('\n')[0]).toMatch(/"id":"r1"/);
      expect(await snapshot(dataDir)).toEqual(after);
    } finally {
      await setModes(dataDir, 0o755, 0o644);
    }
  }, 300_000);
});
