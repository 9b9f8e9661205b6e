import { scrubKnownSecrets } from './secrets.ts';

/** Exit codes of the contract: 0 ok, 1 failure, 2 bad usage or config, 3 reconciliation mismatch. */
export const EXIT = { ok: 0, failure: 1, usage: 2, mismatch: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad CLI arguments or bad configuration: exit 2, message names the bad field. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = EXIT.usage;
}

/** Config that failed validation; `field` is the dotted path of the first bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = EXIT.usage;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Reconciliation found at least one domain off: exit 3. */
export class ReconcileMismatchError extends Error {
  override readonly name = 'ReconcileMismatchError';
  readonly exitCode = EXIT.mismatch;
  constructor(
    message: string,
    readonly domains: string[],
  ) {
    super(message);
  }
}

export function exitCodeOf(err: unknown): ExitCode {
  if (err && typeof err === 'object' && 'exitCode' in err) {
    const code = (err as { exitCode: unknown }).exitCode;
    if (code === EXIT.usage || code === EXIT.mismatch || code === EXIT.failure) return code;
  }
  return EXIT.failure;
}

/**
 * Removes credentials from anything that may be logged, shown or stored: every registered secret
 * in any encoding (see secrets.ts), the password of a `scheme://user:pass@` URL, bearer tokens,
 * and `password=`/`"client_secret": "..."` style fields.
 */
export function redact(text: string): string {
  return scrubKnownSecrets(text)
    .replace(/(\w+:\/\/)([^:@/\s]+):([^@/\s]+)@/g, '$1$2:***@')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
    // Only in a header, so that "basic rates" stays readable; known Basic credentials go above.
    .replace(/(authorization["']?\s*[:=]\s*["']?Basic\s+)[A-Za-z0-9+/]+={0,2}/gi, '$1***')
    // A JSON field, and the same field inside JSON that was itself put in a JSON string.
    .replace(/("(?:password|client_secret|refresh_token|access_token|api_key|apiKey)"\s*:\s*")(?:\\.|[^"\\])*(?=")/gi, '$1***')
    .replace(/(\\"(?:password|client_secret|refresh_token|access_token|api_key|apiKey)\\"\s*:\s*\\")(?:\\{4}|\\{3}"|\\\\[^"\\]|[^"\\])*(?=\\")/gi, '$1***')
    .replace(/((?<![\w"])(?:password|client_secret|refresh_token|access_token|api_key)\s*[:=]\s*)[^"&\s,}]+/gi, '$1***');
}

/** `redact` applied to every string inside a JSON-like value (summaries, log fields). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
