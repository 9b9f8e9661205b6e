/**
 * Webhook signing: HMAC-SHA256 over `<timestamp>.<body>` with the shared secret, sent as
 * `X-Cdrpipe-Signature: sha256=<hex>` beside `X-Cdrpipe-Timestamp: <unix seconds>`. The timestamp
 * is inside the signed text, so a captured request cannot be replayed later with a fresh one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Cdrpipe-Signature';
export const TIMESTAMP_HEADER = 'X-Cdrpipe-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * What a receiver does: recompute the signature over the raw body and compare in constant time,
 * and refuse a timestamp further than `toleranceS` from its own clock (default 5 minutes).
 */
export function verifyWebhook(args: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowS?: number;
  toleranceS?: number;
}): boolean {
  const ts = Number(args.timestamp);
  if (!args.signature || !Number.isInteger(ts)) return false;
  const now = args.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (args.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signWebhook(args.secret, ts, args.body));
  const given = Buffer.from(args.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
