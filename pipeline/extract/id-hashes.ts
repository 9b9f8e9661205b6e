/**
 * Which CDR ids came more than once across the windows merged into one partition write.
 *
 * A finished window waits (spooled) until its partition is merged, and a long backfill can hold
 * up to two million such rows. Keeping their ids as strings cost ~75 bytes each (≈150 MB at that
 * budget, and the ingest's peak memory grew with it); a window now keeps one 53-bit hash per id
 * in a Float64Array (8 bytes). Within a window the exact duplicate ids are still known (the
 * window's own Set, dropped when the window completes). Across windows a repeat is rare (a CDR
 * whose start time moved between two fetches); when two windows share a hash, the caller falls
 * back to de-duplicating every row of that write, which is always correct.
 */

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain, bryc). Collisions at 2M ids: ~2e-4 expected. */
export function hashId(id: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The compact form a finished window keeps of its distinct ids. */
export function idHashesOf(ids: Iterable<string>, size: number): Float64Array {
  const out = new Float64Array(size);
  let i = 0;
  for (const id of ids) out[i++] = hashId(id);
  return i === size ? out : out.subarray(0, i);
}

/** What one finished window contributes to the duplicate check. */
export interface WindowIds {
  /** Ids that came more than once within the window (exact). */
  duplicateIds: readonly string[];
  /** One hash per distinct id of the window. */
  idHashes: Float64Array;
}

/**
 * The ids to de-duplicate when these windows are written together: the exact within-window
 * duplicates, or undefined ("de-duplicate every row") when an id hash occurs in two windows.
 */
export function duplicateIdsAcross(windows: readonly WindowIds[]): string[] | undefined {
  const within = new Set(windows.flatMap((w) => w.duplicateIds));
  if (windows.length > 1) {
    const seen = new Set<number>();
    for (const w of windows) {
      for (const h of w.idHashes) {
        if (seen.has(h)) return undefined;
      }
      for (const h of w.idHashes) seen.add(h);
    }
  }
  return [...within];
}
