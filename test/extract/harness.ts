import type { IngestSettings } from '../../pipeline/config/config-schema.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { runIngest, type IngestOptions } from '../../pipeline/extract/run-ingest.ts';
import type { IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { cdrsGlob } from '../../pipeline/lake/layout.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../pipeline/simulator/index.ts';
import { FixedClock, systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

/** The month the ingest tests fill, and the clock they run at (every October call has settled). */
export const OCT = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') };
export const NOW = new Date('2026-11-27T12:00:00Z');

export interface Harness {
  dir: string;
  sim: RunningSimulator;
  clock: FixedClock;
  client(): NetSapiensClient;
  ingest(opts?: Partial<IngestOptions>): Promise<IngestSummary>;
  close(): Promise<void>;
}

export async function startHarness(sim: SimulatorOptions & { now: Date }, ingest: Partial<IngestSettings> = {}): Promise<Harness> {
  const dir = await tempDir('cdrpipe-ingest-');
  const clock = new FixedClock(sim.now);
  const server = await startSimulator({ seed: 3, domains: 3, strict: true, ...sim, clock });
  const config = testConfig({ ingest });
  const client = () =>
    NetSapiensClient.create({
      baseUrl: server.url,
      auth: { kind: 'api-key', apiKey: 'test-key' },
      // The client's backoff gate measures real waits: it gets the wall clock, the run the fixed one.
      clock: systemClock,
      retry: { baseDelayMs: 1, maxDelayMs: 20, retryAfterCapMs: 100, maxAttempts: 20 },
      timeoutMs: 10_000,
    });
  return {
    dir,
    sim: server,
    clock,
    client,
    ingest: (o = {}) => runIngest({ dataDir: dir, config, source: client(), clock, logger: silentLogger(), ...o }),
    // The data directory goes with the test (or file) that made it.
    close: () => server.close(),
  };
}

/** Every lake row as (domain, id, start_time ISO, raw JSON parsed). */
export async function lakeRows(dir: string): Promise<{ domain: string; id: string; month: string; raw: Record<string, unknown> }[]> {
  const db = await Db.open(':memory:');
  try {
    const rows = await db.all<{ domain: string; id: string; month: string; raw: string }>(
      `SELECT domain, id, month, raw::VARCHAR AS raw FROM read_parquet(${sqlString(cdrsGlob(dir))}, hive_partitioning = true) ORDER BY domain, id`,
    );
    return rows.map((r) => ({ ...r, raw: JSON.parse(r.raw) as Record<string, unknown> }));
  } catch (err) {
    if (/No files found/i.test(String(err))) return [];
    throw err;
  } finally {
    db.close();
  }
}

/** The simulator's ground truth for every domain in [start, end), as lake-shaped rows. */
export function truthRows(sim: RunningSimulator, window: { start: Date; end: Date }, domains?: string[]) {
  const names = domains ?? sim.domains().map((d) => String(d.domain));
  return names
    .flatMap((domain) => sim.groundTruth(domain, window).map((raw) => ({ domain, id: String(raw.id), raw })))
    .sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
