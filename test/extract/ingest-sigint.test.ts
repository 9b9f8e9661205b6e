import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cdrsDir } from '../../pipeline/lake/layout.ts';
import { recentRuns } from '../../pipeline/schedule/run-log.ts';
import { startSimulator } from '../../pipeline/simulator/index.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { spawnCli } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * An API in front of the simulator that answers every CDR page one byte at a time (a PBX under
 * load, or a slow link); everything else passes through. `trickling` resolves once a page has
 * started to trickle.
 */
async function tricklingProxy(upstream: string): Promise<{ url: string; trickling: Promise<void>; close: () => Promise<void> }> {
  const base = new URL(upstream);
  let started!: () => void;
  const trickling = new Promise<void>((r) => (started = r));
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      // The proxy serves the same paths as the simulator, on its own port.
      const target = new URL(req.url ?? '/', base.origin);
      const headers: Record<string, string> = {};
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      const up = await fetch(target, { headers });
      const body = Buffer.from(await up.arrayBuffer());
      const isPage = target.pathname.endsWith('/cdrs');
      if (!isPage || up.status !== 200) {
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      started();
      let i = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (i >= body.length) return void res.end();
        res.write(body.subarray(i, i + 1));
        i++;
        const t = setTimeout(tick, 100);
        timers.add(t);
      };
      tick();
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${base.pathname}`,
    trickling,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Every file under the lake's cdrs with its size and modification time. */
async function lakeSnapshot(dataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(cdrsDir(dataDir), { recursive: true })) as string[];
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    const s = await stat(join(cdrsDir(dataDir), n));
    if (s.isFile()) out.push(`${n} ${s.size} ${s.mtimeMs}`);
  }
  return out;
}

describe('Ctrl-C during an ingest whose answers trickle in', () => {
  it('stops within seconds, exits 1, records the run interrupted and leaves the lake as it was', async () => {
    const tmp = await tempDir('cdrpipe-sigint-');
    const dataDir = join(tmp, 'data');
    const sim = await startSimulator({ port: 0, seed: 7, domains: 1 });
    cleanups.push(() => sim.close());
    const env = { CDRPIPE_DATA_DIR: dataDir, NS_API_KEY: 'k', CDRPIPE_LOG_LEVEL: 'warn' };

    // A lake with something in it: September, fetched at full speed.
    const first = spawnCli(['ingest', '--from', '2026-09-01', '--to', '2026-09-02'], { env: { ...env, NS_API_URL: sim.url } });
    expect(await first.exited, first.output()).toBe(0);
    const before = await lakeSnapshot(dataDir);
    expect(before.length).toBeGreaterThan(0);
    const watermarksBefore = await withState(dataDir, (db) =>
      db.all(`SELECT domain, watermark::VARCHAR AS w FROM watermarks ORDER BY domain`),
    );

    // October through an API that sends its pages byte by byte.
    const proxy = await tricklingProxy(sim.url);
    cleanups.push(proxy.close);
    const run = spawnCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-03'], { env: { ...env, NS_API_URL: proxy.url } });
    cleanups.push(async () => void run.child.kill('SIGKILL'));
    await Promise.race([proxy.trickling, run.exited]);
    expect(run.child.exitCode, run.output()).toBeNull();

    run.child.kill('SIGINT');
    // Generous: the grace period is a few seconds; without it the run waits out the request timeout.
    const stopped = await Promise.race([
      run.exited,
      new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000).unref()),
    ]);
    expect(stopped, run.output()).toBe(1);
    expect(run.output()).toMatch(/stopping/);

    expect(await lakeSnapshot(dataDir)).toEqual(before);
    expect(await withState(dataDir, (db) => db.all(`SELECT domain, watermark::VARCHAR AS w FROM watermarks ORDER BY domain`))).toEqual(
      watermarksBefore,
    );
    const runs = await recentRuns(dataDir);
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'ok']);
  }, 180_000);
});
