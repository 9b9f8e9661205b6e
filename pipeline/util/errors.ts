import { scrubKnownSecrets } from './secrets.ts';

/**
 * Every exit code the CLI uses: the contract's 0 ok, 1 failure, 2 bad usage or config, 3
 * reconciliation mismatch, and the shell's 128+SIGINT for a second interrupt that stops at once.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, mismatch: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The base of every error the product throws on purpose: it carries the exit code the CLI ends
 * with, and the lower-level error that caused it (ES2022 `cause`), so nothing is lost by wrapping.
 * Anything that is not a CdrpipeError ends the CLI with EXIT.failure.
 */
export class CdrpipeError extends Error {
  override readonly name: string = 'CdrpipeError';
  readonly exitCode: ExitCode = EXIT.failure;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Bad CLI arguments or bad configuration: exit 2, message names the bad field. */
export class UsageError extends CdrpipeError {
  override readonly name = 'UsageError';
  override readonly exitCode = EXIT.usage;
}

/** Config that failed validation; `field` is the dotted path of the first bad field. */
export class ConfigError extends CdrpipeError {
  override readonly name = 'ConfigError';
  override readonly exitCode = EXIT.usage;
  constructor(
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Reconciliation found at least one domain off: exit 3. */
export class ReconcileMismatchError extends CdrpipeError {
  override readonly name = 'ReconcileMismatchError';
  override readonly exitCode = EXIT.mismatch;
  constructor(
    message: string,
    readonly domains: string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The exit code the CLI ends with for `err`: a CdrpipeError's own, anything else EXIT.failure. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof CdrpipeError ? err.exitCode : EXIT.failure;
}

/**
 * Removes credentials from anything that may be logged, shown or stored: every registered secret
 * in any encoding (see secrets.ts), the password of a `scheme://user:pass@` URL, bearer tokens,
 * and `password=`/`"client_secret": "..."` style fields.
 */
export function redact(text: string): string {
  return (
    scrubKnownSecrets(text)
      .replace(/(\w+:\/\/)([^:@/\s]+):([^@/\s]+)@/g, '$1$2:***@')
      .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
      // Only in a header, so that "basic rates" stays readable; known Basic credentials go above.
      .replace(/(authorization["']?\s*[:=]\s*["']?Basic\s+)[A-Za-z0-9+/]+={0,2}/gi, '$1***')
      // A JSON field, and the same field inside JSON that was itself put in a JSON string.
      .replace(/("(?:password|client_secret|refresh_token|access_token|api_key|apiKey)"\s*:\s*")(?:\\.|[^"\\])*(?=")/gi, '$1***')
      .replace(
        /(\\"(?:password|client_secret|refresh_token|access_token|api_key|apiKey)\\"\s*:\s*\\")(?:\\{4}|\\{3}"|\\\\[^"\\]|[^"\\])*(?=\\")/gi,
        '$1***',
      )
      .replace(/((?<![\w"])(?:password|client_secret|refresh_token|access_token|api_key)\s*[:=]\s*)[^"&\s,}]+/gi, '$1***')
  );
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
