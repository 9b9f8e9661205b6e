import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { statePath } from '../../pipeline/lake/layout.ts';
import { writeFileAtomic } from '../../pipeline/util/atomic-file.ts';
import { recentRuns } from '../../pipeline/schedule/run-log.ts';
import { gatherStatus, type StatusReport } from '../../pipeline/schedule/status-report.ts';
import { startSimulator } from '../../pipeline/simulator/index.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { runCli, spawnCli } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A pid that surely does not exist any more: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

/**
 * A data directory as a killed run leaves it: a finished ingest, a run still marked 'running' by
 * a process that is gone, and a WAL that was never folded into state.duckdb.
 */
async function killedRunDataDir(dataDir: string): Promise<void> {
  const gone = await deadPid();
  await withState(dataDir, async (db) => {
    await db.run(
      `INSERT INTO runs (run_id, job, trigger, started_at, ended_at, status, host, pid)
                  VALUES ('r1', 'ingest', 'cron', '2026-12-10 11:00:00+00', '2026-12-10 11:01:00+00', 'ok', $1, 1)`,
      [hostname()],
    );
    await db.run(
      `INSERT INTO runs (run_id, job, trigger, started_at, status, host, pid)
                  VALUES ('r2', 'cdrpipe ingest', 'manual', '2026-12-10 11:30:00+00', 'running', $1, $2)`,
      [hostname(), gone],
    );
  });
  const db = await Db.open(statePath(dataDir));
  await db.run('PRAGMA disable_checkpoint_on_shutdown');
  await db.run(`INSERT INTO watermarks VALUES ('a.example', '2026-12-10 11:45:00+00', now())`);
  db.close();
  expect(await readdir(dataDir)).toContain('state.duckdb.wal');
}

/** Every entry under `dir` with its size and modification time. */
async function snapshot(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })) as string[];
  const out: string[] = [];
  for (const n of names.sort()) {
    const s = await stat(join(dir, n));
    out.push(`${n} ${s.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`);
  }
  return out;
}

/** `cdrpipe status --json`, as another user or with a file-size limit (a full disk, for this process only). */
function runStatus(dataDir: string, how: { asUser?: number; fileSizeLimitBlocks?: number }) {
  return runCli(['status', '--json'], {
    env: { CDRPIPE_DATA_DIR: dataDir, CDRPIPE_LOG_LEVEL: 'warn' },
    uid: how.asUser,
    // Any write that grows a file fails (EFBIG, with SIGXFSZ ignored).
    shellPrefix: how.fileSizeLimitBlocks ? `trap '' XFSZ; ulimit -f ${how.fileSizeLimitBlocks}` : undefined,
  });
}

async function chmodTree(dir: string, dirMode: number, fileMode: number): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chmodTree(p, dirMode, fileMode);
    else await chmod(p, fileMode);
  }
  await chmod(dir, dirMode);
}

function runOf(s: StatusReport, command: string) {
  return s.commandRuns.find((c) => c.command === command)?.lastRun ?? s.jobs.find((j) => j.job === command)?.lastRun;
}

describe('status on a data directory it may not change', () => {
  it('changes nothing (a WAL left by a killed writer stays), and shows a run whose process is gone as interrupted', async () => {
    const tmp = await tempDir();
    await killedRunDataDir(tmp);
    const before = await snapshot(tmp);
    const st = await gatherStatus({ dataDir: tmp, config: testConfig(), clock: new FixedClock(new Date('2026-12-10T12:00:00Z')) });
    expect(await snapshot(tmp)).toEqual(before);
    // The WAL's write is seen (replayed in memory).
    expect(st.watermarks.map((w) => w.domain)).toEqual(['a.example']);
    expect(runOf(st, 'cdrpipe ingest')).toMatchObject({
      status: 'interrupted',
      error: expect.stringMatching(/process ended before the run finished/),
    });
    expect(runOf(st, 'ingest')).toMatchObject({ status: 'ok' });
  });

  it('works on a read-only data directory', async () => {
    const tmp = await tempDir();
    const dataDir = join(tmp, 'data');
    await killedRunDataDir(dataDir);
    // root ignores file modes: read as an unprivileged user then.
    const asUser = process.getuid?.() === 0 ? 65534 : undefined;
    await chmod(tmp, 0o755);
    await chmodTree(dataDir, 0o555, 0o444);
    cleanups.push(() => chmodTree(dataDir, 0o755, 0o644));
    const before = await snapshot(dataDir);
    const r = await runStatus(dataDir, { asUser });
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as StatusReport;
    expect(st.watermarks.map((w) => w.domain)).toEqual(['a.example']);
    expect(runOf(st, 'cdrpipe ingest')?.status).toBe('interrupted');
    expect(await snapshot(dataDir)).toEqual(before);
  }, 180_000);

  it('works on a full disk', async () => {
    const tmp = await tempDir();
    await killedRunDataDir(tmp);
    const before = await snapshot(tmp);
    const r = await runStatus(tmp, { fileSizeLimitBlocks: 8 });
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as StatusReport;
    expect(st.watermarks.map((w) => w.domain)).toEqual(['a.example']);
    expect(await snapshot(tmp)).toEqual(before);
  }, 180_000);
});

describe('runs left running by a process that is gone', () => {
  it('the next cdrpipe ingest records them interrupted', async () => {
    const tmp = await tempDir();
    const dataDir = join(tmp, 'data');
    await killedRunDataDir(dataDir);
    const sim = await startSimulator({ port: 0, seed: 5, domains: 1 });
    cleanups.push(() => sim.close());
    const run = spawnCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-02'], {
      env: { CDRPIPE_DATA_DIR: dataDir, NS_API_URL: sim.url, NS_API_KEY: 'k' },
    });
    expect(await run.exited, run.output()).toBe(0);
    const runs = await recentRuns(dataDir);
    expect(runs.find((r) => r.runId === 'r2')).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/process ended/) });
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
  }, 180_000);
});

describe('report files written aside', () => {
  it('a failed write leaves no aside file, and asides of killed runs are removed by the next write', async () => {
    const tmp = await tempDir();
    const dir = join(tmp, 'reports', '2026-11', 'a.example');
    const path = join(dir, 'report.html');
    await mkdir(dir, { recursive: true });
    const killed = `report.html.${await deadPid()}.1764400000000.tmp`;
    await writeFile(join(dir, killed), '<html><body>half');
    // A write that cannot be published (the name is taken by a directory) must not leave its aside.
    await mkdir(join(path, 'blocker'), { recursive: true });
    await expect(writeFileAtomic(path, '<html>full</html>')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['report.html']);
    await rm(path, { recursive: true });
    await writeFile(join(dir, killed), '<html><body>half');
    // An aside of a live process is its own, still being written.
    const live = `report.html.${process.ppid}.1764400000000.tmp`;
    await writeFile(join(dir, live), 'being written');
    await writeFileAtomic(path, '<html>full</html>');
    expect((await readdir(dir)).sort()).toEqual(['report.html', live]);
    expect(await readFile(path, 'utf8')).toBe('<html>full</html>');
  });
});
