/** ETags as S3 stores send them; no SDK here, so the lake's writer can use it without loading one. */

/** A single-part ETag is the body's MD5 in hex; a multipart one has a "-<parts>" suffix and is not. */
export function md5ETagOf(etag: string): string | undefined {
  const bare = etag.replace(/^W\//, '').replace(/"/g, '');
  return /^[0-9a-f]{32}$/i.test(bare) ? bare.toLowerCase() : undefined;
}
