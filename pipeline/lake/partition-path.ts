/**
 * Partition values and file-name parts outside [A-Za-z0-9._-] are percent-encoded (UTF-8 bytes,
 * upper-case hex), so any domain name maps to one safe path segment and back. `.` and `..` are
 * refused: they would name the directory itself or its parent.
 */
const SAFE = /^[A-Za-z0-9._-]$/;

export function encodePartitionValue(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new Error(`refusing ${JSON.stringify(value)} as a partition value: empty, "." and ".." cannot name a domain`);
  }
  let out = '';
  for (const ch of value) {
    if (SAFE.test(ch)) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

export function decodePartitionValue(encoded: string): string {
  return decodeURIComponent(encoded);
}
