/**
 * What can go wrong talking to the bucket, as errors the CLI turns into exit codes: the
 * configuration (credentials, bucket, endpoint) is exit 2 with a message that says which variable
 * to fix; a conditional write that lost to another writer is its own class so callers can tell it
 * apart; everything else is exit 1. No message carries a key or secret (the CLI redacts anyway).
 */
import { CdrpipeError, EXIT } from '../util/errors.ts';

/** The bucket could not be used because of configuration: wrong keys, no such bucket, endpoint unreachable. */
export class StoreConfigError extends CdrpipeError {
  override readonly name = 'StoreConfigError';
  override readonly exitCode = EXIT.usage;
}

/** A conditional write (If-Match / If-None-Match) was refused: someone else changed the object first. */
export class StoreConflictError extends CdrpipeError {
  override readonly name = 'StoreConflictError';
  constructor(
    message: string,
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Any other failure of a bucket request (after retries): exit 1. */
export class StoreError extends CdrpipeError {
  override readonly name = 'StoreError';
}

/** The parts of an AWS SDK (or network) error the mapping looks at. */
interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function shape(err: unknown): ErrorShape {
  return err !== null && typeof err === 'object' ? (err as ErrorShape) : { message: String(err) };
}

/** The HTTP status of a failed request, when there was a response. */
export function statusOf(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AuthorizationHeaderMalformed',
  'InvalidSecurity',
  'AllAccessDisabled',
]);
const THROTTLING =
  /^(SlowDown|Throttl\w*|TooManyRequests\w*|RequestLimitExceeded|ServiceUnavailable|InternalError|RequestTimeout|RequestTimeTooSkewed)$/;
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** True for a failure worth another try: throttling (503 SlowDown, 429), a 5xx, a dropped connection. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof CdrpipeError) return false;
  const e = shape(err);
  const status = e.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (e.name && THROTTLING.test(e.name)) return true;
  if (e.code && NETWORK.has(e.code)) return true;
  return e.name === 'TimeoutError' || /socket hang up|ECONNRESET|EPIPE/i.test(e.message ?? '');
}

/** What a request was doing, for the message. */
export interface StoreOp {
  /** e.g. "reading", "writing", "listing". */
  verb: string;
  bucket: string;
  key?: string;
  /** The endpoint, when one is configured (never carries credentials). */
  endpoint?: string;
}

function where(op: StoreOp): string {
  return `s3://${op.bucket}/${op.key ?? ''}${op.endpoint ? ` at ${op.endpoint}` : ''}`;
}

/**
 * The error the product shows for a failed bucket request. Credentials never appear: the SDK's
 * messages name the access key id at most, and the message here names only the variables.
 */
export function storeErrorOf(err: unknown, op: StoreOp): Error {
  if (err instanceof CdrpipeError) return err;
  const e = shape(err);
  const status = e.$metadata?.httpStatusCode;
  // A HEAD answer has no body, so the SDK knows no error code for it.
  const name = e.name && e.name !== 'Unknown' ? e.name : '';
  if (status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 409) {
    return new StoreConflictError(
      `${op.verb} ${where(op)}: another writer changed the object first (${name || status}); nothing was overwritten. Run the command again.`,
      op.key ?? '',
      { cause: err },
    );
  }
  if (CREDENTIAL_ERRORS.has(name) || status === 403) {
    return new StoreConfigError(
      `${op.verb} ${where(op)} was refused (${name || 'HTTP 403'}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
        `(and AWS_SESSION_TOKEN for temporary keys), and that they may read and write the bucket`,
      { cause: err },
    );
  }
  if (name === 'NoSuchBucket' || (status === 404 && op.key === undefined)) {
    return new StoreConfigError(
      `bucket ${JSON.stringify(op.bucket)} does not exist${op.endpoint ? ` at ${op.endpoint}` : ''}: create it, or fix CDRPIPE_LAKE_URL` +
        (op.endpoint ? ' or AWS_ENDPOINT_URL_S3' : ''),
      { cause: err },
    );
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return new StoreConfigError(`${op.verb} ${where(op)}: the bucket is in another region; set AWS_REGION to the bucket's region`, {
      cause: err,
    });
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return new StoreConfigError(
      `${op.verb} ${where(op)}: cannot reach the store (${e.code}); check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and that the store is up`,
      { cause: err },
    );
  }
  return new StoreError(`${op.verb} ${where(op)} failed: ${name || e.code || ''}${e.message ? ` ${e.message}` : ''}`.trim(), {
    cause: err,
  });
}
