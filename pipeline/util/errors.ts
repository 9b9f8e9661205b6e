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

/** Remove credentials from anything that may be logged or shown (URLs with user:pass, bearer tokens). */
export function redact(text: string): string {
  return text
    .replace(/(\w+:\/\/)([^:@/\s]+):([^@/\s]+)@/g, '$1$2:***@')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
    .replace(/("?(?:password|client_secret|refresh_token|access_token|api_key)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, '$1***');
}
