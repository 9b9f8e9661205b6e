/**
 * `CDRPIPE_LAKE_URL`: where the lake lives when it is not under the data directory. Only
 * `s3://bucket[/prefix]` is understood (any S3-compatible store; the endpoint comes from the AWS
 * variables). Parsed here, with the environment, so a bad value is a usage error naming the
 * variable before any command starts work.
 */

/** A lake in a bucket: objects are `<prefix>cdrs/month=…/domain=…/data.parquet` and so on. */
export interface LakeLocation {
  bucket: string;
  /** Empty, or a key prefix ending in "/" (never starting with one). */
  prefix: string;
  /** The URL as the user would write it again: s3://bucket/prefix/ */
  url: string;
}

// The S3 naming rules most stores enforce (3-63 characters, lower case, digits, dots, hyphens,
// starting and ending with a letter or digit). Upper case and underscores, which a few older
// stores accept, are refused: path-style and virtual-host addressing would not agree on them.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The problem with `raw` as a lake URL, or undefined when it is one; `parseLakeUrl` is the parse. */
export function lakeUrlProblem(raw: string): string | undefined {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(raw.trim());
  if (!m) {
    if (/^s3:\/\//i.test(raw.trim()) && /[?#]/.test(raw)) return 'must not carry a query or fragment: use s3://bucket/prefix';
    return "must be s3://bucket or s3://bucket/prefix (the store's endpoint goes in AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)";
  }
  const bucket = m[1]!;
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    return `names bucket ${JSON.stringify(bucket)}, which is not a valid bucket name (3-63 characters: a-z, 0-9, "." and "-")`;
  }
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return 'has "." or ".." in its prefix';
  return undefined;
}

/** Parses a URL `lakeUrlProblem` accepted. */
export function parseLakeUrl(raw: string): LakeLocation {
  const problem = lakeUrlProblem(raw);
  if (problem) throw new Error(`lake URL ${JSON.stringify(raw)} ${problem}`);
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(raw.trim())!;
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  const prefix = segments.length > 0 ? segments.join('/') + '/' : '';
  const bucket = m[1]!;
  return { bucket, prefix, url: `s3://${bucket}/${prefix}` };
}
