import { createHash } from 'node:crypto';

/**
 * Partition values and file-name parts outside [A-Za-z0-9._-] are percent-encoded (UTF-8 bytes,
 * upper-case hex), so any domain name maps to one safe path segment and back. `.` and `..` are
 * refused: they would name the directory itself or its parent.
 *
 * A segment must also fit the file system's name limit (255 bytes on ext4, XFS, APFS, NTFS).
 * An encoded value longer than {@link MAX_ENCODED_BYTES} becomes a short name instead:
 * `<readable prefix>~<hash>`, where the prefix is the encoded value cut at a character boundary
 * to at most {@link SHORT_PREFIX_BYTES} bytes and the hash is the first 32 hex digits of the
 * SHA-256 of the value's UTF-8 bytes. `~` is never left as is by the encoding, so a short name
 * can never be the encoding of another value; the hash tells long values with one prefix apart.
 * A short name cannot be decoded: whoever writes under one also stores the full value
 * (lake/lake-writer.ts: the `domain_name` column).
 */
const SAFE = /^[A-Za-z0-9._-]$/;
/** Longest encoded value kept as is (`domain=` + 200 bytes leaves room under 255 for any prefix a caller adds). */
export const MAX_ENCODED_BYTES = 200;
/** Bytes of the encoded value a short name keeps, so a person can still tell which domain it is. */
export const SHORT_PREFIX_BYTES = 120;
const SHORT_MARK = '~';
const HASH_HEX_DIGITS = 32;

/** The path segment for a partition value: percent-encoded, or a short name when that is too long. */
export function encodePartitionValue(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new Error(`refusing ${JSON.stringify(value)} as a partition value: empty, "." and ".." cannot name a domain`);
  }
  const pieces = [...value].map(encodeChar);
  const encoded = pieces.join('');
  if (encoded.length <= MAX_ENCODED_BYTES) return encoded;
  let prefix = '';
  for (const p of pieces) {
    if (prefix.length + p.length > SHORT_PREFIX_BYTES) break;
    prefix += p;
  }
  const hash = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${prefix}${SHORT_MARK}${hash}`;
}

/** True for a segment {@link encodePartitionValue} shortened (its value is stored beside it, not in it). */
export function isShortPartitionValue(segment: string): boolean {
  return segment.includes(SHORT_MARK);
}

/** The value a segment encodes, or undefined for a short name (read the stored value instead). */
export function decodePartitionValue(encoded: string): string | undefined {
  return isShortPartitionValue(encoded) ? undefined : decodeURIComponent(encoded);
}

function encodeChar(ch: string): string {
  if (SAFE.test(ch)) return ch;
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  return out;
}
