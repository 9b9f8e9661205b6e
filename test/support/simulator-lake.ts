/**
 * The setup the end-to-end tests share: a client for the loopback simulator whose retries cost
 * milliseconds, a plan on the shipped deck with billing-like increments, and a data directory filled
 * from a simulator over a fixed span (the simulator closed again unless the test keeps it).
 */
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig, CdrpipeConfigInput } from '../../pipeline/config/config-schema.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import type { IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { startSimulator, type SimulatorOptions } from '../../pipeline/simulator/index.ts';
import { NetSapiensClient, type NetSapiensClientOptions } from '../../pipeline/source/netsapiens-client.ts';
import { systemClock, type Clock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';

/**
 * A client for a simulator at `url`. Its backoff gate measures real waits, so it gets the wall
 * clock while the run it serves gets the test's fixed one.
 */
export function simulatorClient(url: string, over: Partial<NetSapiensClientOptions> = {}): NetSapiensClient {
  return NetSapiensClient.create({
    baseUrl: url,
    auth: { kind: 'api-key', apiKey: 'test-key' },
    clock: systemClock,
    retry: { baseDelayMs: 1, maxDelayMs: 5, retryAfterCapMs: 5, maxAttempts: 10 },
    timeoutMs: 10_000,
    ...over,
  });
}

/** The `standard` plan over the shipped deck, inbound billed in 6-second steps, `includedMinutes` free. */
export function standardPlan(includedMinutes: number): CdrpipeConfigInput['plans'][string] {
  return {
    version: '2026-01',
    rateDeck: resolveProjectPath('reports/rates/standard.csv'),
    inbound: { perMinute: '0.0090', initialIncrement: 6, subsequentIncrement: 6 },
    tollFreeInbound: { perMinute: '0.0250', initialIncrement: 6, subsequentIncrement: 6 },
    includedMinutes,
  };
}

export interface SimulatedIngest {
  dataDir: string;
  config: CdrpipeConfig;
  clock: Clock;
  /** The simulator: seed, domains and data span; its clock is `clock`. */
  simulator: Omit<SimulatorOptions, 'clock'>;
  /** The ingest's window. */
  from: Date;
  to: Date;
}

/** Starts the simulator, ingests `from`..`to` into `dataDir`, and closes the simulator again. */
export async function ingestFromSimulator(o: SimulatedIngest): Promise<IngestSummary> {
  const sim = await startSimulator({ ...o.simulator, clock: o.clock });
  try {
    return await runIngest({
      dataDir: o.dataDir,
      config: o.config,
      source: simulatorClient(sim.url),
      clock: o.clock,
      logger: silentLogger(),
      from: o.from,
      to: o.to,
    });
  } finally {
    await sim.close();
  }
}
