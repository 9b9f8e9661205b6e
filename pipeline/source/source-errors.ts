import { CdrpipeError, EXIT, redact, type ExitCode } from '../util/errors.ts';

/** What the server said in an error body: `{code, message}` (v2) or `{error}` (older model). */
export interface ServerErrorBody {
  code?: number;
  message?: string;
  error?: string;
}

/**
 * A non-retryable HTTP answer (4xx other than 429, a 401 that survived one token refresh) or a
 * retryable one that used up the attempt budget. Carries method and path (query included) but
 * never a token, key or password.
 */
export class NetSapiensHttpError extends CdrpipeError {
  override readonly name = 'NetSapiensHttpError';
  /** Refused credentials are a configuration problem (exit 2); anything else is a failure (exit 1). */
  override readonly exitCode: ExitCode;
  readonly path: string;
  readonly serverMessage: string | undefined;
  readonly serverCode: number | undefined;

  constructor(
    readonly status: number,
    readonly method: string,
    path: string,
    server: ServerErrorBody | undefined,
    readonly attempts: number,
    hint?: string,
  ) {
    const safePath = redact(path);
    const serverMessage = server?.message ?? server?.error;
    const said = serverMessage !== undefined ? `: ${redact(serverMessage)}` : '';
    super(
      `NetSapiens API ${method} ${safePath} answered HTTP ${status}${said}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}${hint ? `. ${hint}` : ''}`,
    );
    this.exitCode = status === 401 ? EXIT.usage : EXIT.failure;
    this.path = safePath;
    this.serverMessage = serverMessage === undefined ? undefined : redact(serverMessage);
    this.serverCode = server?.code;
  }
}

/** A 200 answer whose body is not what the endpoint returns (not JSON, wrong shape), after retries. */
export class NetSapiensBodyError extends CdrpipeError {
  override readonly name = 'NetSapiensBodyError';
  readonly path: string;
  constructor(
    readonly method: string,
    path: string,
    readonly reason: string,
    readonly attempts: number,
    /** The first 200 characters of the last body, for diagnosis. */
    readonly bodyStart: string,
  ) {
    const safePath = redact(path);
    super(
      `NetSapiens API ${method} ${safePath}: ${reason} (after ${attempts} attempt${attempts === 1 ? '' : 's'}); body starts ${JSON.stringify(redact(bodyStart))}`,
    );
    this.path = safePath;
  }
}

/** Connection failures or timeouts that outlasted the attempt budget. */
export class NetSapiensTransportError extends CdrpipeError {
  override readonly name = 'NetSapiensTransportError';
  readonly path: string;
  constructor(
    readonly method: string,
    path: string,
    readonly reason: 'network' | 'timeout',
    readonly attempts: number,
    detail: string,
  ) {
    const safePath = redact(path);
    super(
      `NetSapiens API ${method} ${safePath}: ${reason === 'timeout' ? 'timed out' : `connection failed (${redact(detail)})`} ` +
        `after ${attempts} attempt${attempts === 1 ? '' : 's'}; check NS_API_URL and that the PBX is reachable`,
    );
    this.path = safePath;
  }
}

/** Thrown by body parsers inside the transport: "this 200 body is unusable", retried for GETs. */
export class BodyShapeError extends CdrpipeError {
  override readonly name = 'BodyShapeError';
}

/** Reads `{code,message}` / `{error}` from an error body; undefined when it is neither. */
export function readServerError(text: string): ServerErrorBody | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const o = v as Record<string, unknown>;
    const out: ServerErrorBody = {};
    if (typeof o.code === 'number') out.code = o.code;
    if (typeof o.message === 'string') out.message = o.message.slice(0, 500);
    if (typeof o.error === 'string') out.error = o.error.slice(0, 500);
    if (typeof o.error_description === 'string' && out.message === undefined) out.message = o.error_description.slice(0, 500);
    return out.code === undefined && out.message === undefined && out.error === undefined ? undefined : out;
  } catch {
    const trimmed = text.trim().slice(0, 200);
    return trimmed === '' ? undefined : { message: trimmed };
  }
}
