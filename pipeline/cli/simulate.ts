import { withLakeAccess } from './lake-access.ts';
import type { Command } from 'commander';
import { startSimulator, type FaultOptions } from '../simulator/index.ts';
import { UsageError } from '../util/errors.ts';
import { createLogger } from '../util/logger.ts';
import { readProcessSettings, readSimulatorOAuth } from '../config/index.ts';
import { registerSimulateCarrierFile } from './simulate-carrier-file.ts';

function num(flag: string, min: number, max = Infinity, integer = false): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

interface SimulateFlags {
  port: number;
  seed: number;
  domains: number;
  volume: number;
  strict?: boolean;
  latency?: number;
  errorRate?: number;
  dropRate?: number;
  truncateRate?: number;
  rateLimit?: number;
  retryAfter?: number;
  lateShare?: number;
  lateDelay?: number;
  updateShare?: number;
  updateDelay?: number;
  faultSeed?: number;
  apiKey?: string[];
  tokenTtl?: number;
  months?: number;
}

/** `cdrpipe simulate`: serve the NetSapiens v2 simulator until SIGINT/SIGTERM. */
export function registerSimulate(program: Command): void {
  const simulate = withLakeAccess('none', program.command('simulate'))
    .description('serve the NetSapiens v2 simulator on 127.0.0.1 (prints the base URL; stop with Ctrl-C)')
    .option('--port <P>', 'port to listen on (0 = any free port)', num('--port', 0, 65535, true), 8089)
    .option('--seed <S>', 'seed of the generated data', num('--seed', 0, 2 ** 32 - 1, true), 1)
    .option('--domains <N>', 'number of generated customer domains', num('--domains', 0, 100_000, true), 20)
    .option('--volume <X>', 'call volume multiplier', num('--volume', 0, 1000), 1)
    .option('--months <M>', 'months of history before now', num('--months', 0, 120, true))
    .option('--strict', 'answer 400 when datetime-start or datetime-end is missing (live servers silently return everything)')
    .option('--latency <MS>', 'fixed delay before every response', num('--latency', 0, 60_000, true))
    .option('--error-rate <R>', 'share of requests answered 500/502/503', num('--error-rate', 0, 1))
    .option('--drop-rate <R>', 'share of requests whose connection is dropped mid-body', num('--drop-rate', 0, 1))
    .option('--truncate-rate <R>', 'share of 200 answers with a cut-off JSON body', num('--truncate-rate', 0, 1))
    .option('--rate-limit <RPS>', 'requests per second before answering 429', num('--rate-limit', 1, 1e6, true))
    .option('--retry-after <S>', 'Retry-After seconds on 429', num('--retry-after', 0, 3600, true))
    .option('--late-share <R>', 'share of calls that appear late', num('--late-share', 0, 1))
    .option('--late-delay <MIN>', 'minutes a late call stays invisible after it ended', num('--late-delay', 0, 1e6))
    .option('--update-share <R>', 'share of calls whose duration is corrected after they appeared', num('--update-share', 0, 1))
    .option('--update-delay <MIN>', 'minutes until the corrected version appears', num('--update-delay', 0, 1e6))
    .option('--fault-seed <S>', 'seed of the fault sequence', num('--fault-seed', 0, 2 ** 32 - 1, true))
    .option('--api-key <KEY>', 'accept only these bearer keys (repeatable; default: any non-empty bearer)', collect)
    .option('--token-ttl <S>', 'OAuth access-token lifetime in seconds', num('--token-ttl', 1, 1e7, true))
    .addHelpText(
      'after',
      `
Example:
  cdrpipe simulate --port 8089
  curl -H 'Authorization: Bearer x' 'http://127.0.0.1:8089/ns-api/v2/domains'

OAuth: POST /tokens accepts any non-empty client_id/client_secret/username/password unless
NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD are set, then only those.`,
    )
    .action(async (flags: SimulateFlags) => {
      const faults: FaultOptions = {};
      if (flags.faultSeed !== undefined) faults.seed = flags.faultSeed;
      if (flags.latency !== undefined) faults.latencyMs = flags.latency;
      if (flags.errorRate !== undefined) faults.errorRate = flags.errorRate;
      if (flags.dropRate !== undefined) faults.dropRate = flags.dropRate;
      if (flags.truncateRate !== undefined) faults.truncateRate = flags.truncateRate;
      if (flags.rateLimit !== undefined)
        faults.rateLimit = {
          requestsPerSecond: flags.rateLimit,
          ...(flags.retryAfter !== undefined ? { retryAfterSeconds: flags.retryAfter } : {}),
        };
      if (flags.lateShare !== undefined) faults.late = { share: flags.lateShare, delayMs: (flags.lateDelay ?? 120) * 60_000 };
      if (flags.updateShare !== undefined) faults.updates = { share: flags.updateShare, delayMs: (flags.updateDelay ?? 60) * 60_000 };
      const oauth = readSimulatorOAuth();
      const now = new Date();
      const sim = await startSimulator({
        port: flags.port,
        seed: flags.seed,
        domains: flags.domains,
        volume: flags.volume,
        strict: flags.strict ?? false,
        faults,
        ...(flags.months !== undefined ? { dataFrom: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - flags.months, 1)) } : {}),
        ...(flags.apiKey ? { apiKeys: flags.apiKey } : {}),
        ...(oauth ? { oauth } : {}),
        ...(flags.tokenTtl !== undefined ? { tokenTtlSeconds: flags.tokenTtl } : {}),
        logger: createLogger({ level: readProcessSettings().logLevel }),
      }).catch((err: unknown) => {
        const code = (err as { code?: string }).code;
        if (code === 'EADDRINUSE') throw new UsageError(`--port ${flags.port} is already in use; pick another port or --port 0`);
        throw err;
      });
      process.stdout.write(`${sim.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sim.close();
    });
  simulate.enablePositionalOptions();
  registerSimulateCarrierFile(simulate);
}
