import type { EnvConfig } from '../config/index.ts';
import type { Clock } from '../util/clock.ts';
import { UsageError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { apiBaseProblem } from '../config/index.ts';
import { NetSapiensClient } from './netsapiens-client.ts';

export interface SourceFromEnvOptions {
  clock?: Clock;
  logger?: Logger;
  /** At most this many HTTP requests in flight (the ingest concurrency). */
  concurrency?: number;
  /** Optional cap on requests per second across the client. */
  requestsPerSecond?: number;
  /** Aborts every call of the source. */
  signal?: AbortSignal;
}

/**
 * The source the CLI and scheduler use: NS_API_URL plus NS_API_KEY or the four OAuth variables.
 * Throws UsageError (exit 2) when the URL or credentials are missing, or when the URL would
 * expose them (credentials inside it, plain http:// to another host without the opt-in).
 */
export function createSourceFromEnv(env: EnvConfig, opts: SourceFromEnvOptions = {}): NetSapiensClient {
  if (!env.apiUrl) {
    throw new UsageError(
      'NS_API_URL is not set: set NS_API_URL to your PBX API base (e.g. https://pbx.example.com/ns-api/v2) together with NS_API_KEY ' +
        '(or NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD), or run `cdrpipe demo` to use the embedded simulator',
    );
  }
  const problem = URL.canParse(env.apiUrl) ? apiBaseProblem(new URL(env.apiUrl), env.allowInsecureHttp ?? false) : undefined;
  if (problem) throw new UsageError(`NS_API_URL ${problem}`);
  if (!env.auth) {
    throw new UsageError(
      'NS_API_URL is set but no credentials are: set NS_API_KEY, or NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD',
    );
  }
  return NetSapiensClient.create({
    baseUrl: env.apiUrl,
    auth: env.auth,
    clock: opts.clock,
    logger: opts.logger,
    maxConcurrentRequests: opts.concurrency,
    requestsPerSecond: opts.requestsPerSecond,
    signal: opts.signal,
  });
}
