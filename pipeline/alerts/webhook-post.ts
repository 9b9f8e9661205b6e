/**
 * One webhook delivery: POST the body, signed afresh on every try, with retries and backoff for
 * what may pass (network errors, timeouts, 408, 425, 429, 5xx). Every try carries the same
 * idempotency key, so a receiver that dedupes by it acts once however many tries reach it.
 */
import type { AlertWebhookSettings } from '../config/index.ts';
import { fullJitterDelay } from '../util/backoff.ts';
import { redact } from '../util/errors.ts';
import { realSleep, type SleepFn } from '../util/sleep.ts';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.ts';

export interface WebhookRequest {
  body: string;
  idempotencyKey: string;
}

export interface WebhookResult {
  ok: boolean;
  /** Tries made in this call. */
  attempts: number;
  /** "HTTP 200 OK" or the last error, for the log (never the secret). */
  detail: string;
  /** False when the last failure cannot pass by retrying (a 4xx other than 408/425/429). */
  retryable: boolean;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    text: string,
  ) {
    super(`HTTP ${status} ${text}`.trim());
  }
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

function retryable(err: unknown): boolean {
  return err instanceof HttpStatusError ? err.status >= 500 || RETRYABLE_STATUS.has(err.status) : true;
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return redact(`${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`);
}

/**
 * POSTs one webhook, retrying per `settings`. Never throws for the endpoint's failure (the result
 * says); throws only when `signal` aborts.
 */
export async function postWebhook(
  req: WebhookRequest,
  settings: AlertWebhookSettings,
  opts: {
    secret: string | undefined;
    signal?: AbortSignal;
    sleep?: SleepFn;
    nowS?: () => number;
    onRetry?: (detail: string, attempt: number, delayMs: number) => void;
  },
): Promise<WebhookResult> {
  const sleep = opts.sleep ?? realSleep;
  let last: unknown;
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    opts.signal?.throwIfAborted();
    const timestamp = opts.nowS?.() ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'cdrpipe-alerts',
      [IDEMPOTENCY_HEADER]: req.idempotencyKey,
      [TIMESTAMP_HEADER]: String(timestamp),
    };
    if (opts.secret) headers[SIGNATURE_HEADER] = signWebhook(opts.secret, timestamp, req.body);
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    try {
      const res = await fetch(settings.url, {
        method: 'POST',
        headers,
        body: req.body,
        redirect: 'error',
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
      // Read the answer whole, so the connection is free and a slow body counts against the timeout.
      const text = (await res.text()).slice(0, 200);
      if (res.ok) return { ok: true, attempts: attempt, detail: `HTTP ${res.status} ${text}`.trim(), retryable: false };
      throw new HttpStatusError(res.status, text);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      last = err;
      if (!retryable(err)) return { ok: false, attempts: attempt, detail: describe(err, settings.timeoutMs), retryable: false };
      if (attempt < settings.attempts) {
        const delay = fullJitterDelay(attempt - 1, settings);
        opts.onRetry?.(describe(err, settings.timeoutMs), attempt, delay);
        await sleep(delay, opts.signal);
      }
    }
  }
  return { ok: false, attempts: settings.attempts, detail: describe(last, settings.timeoutMs), retryable: true };
}
