import { describe, expect, it } from 'vitest';
import { duplicateIdsAcross, hashId, idHashesOf } from '../../pipeline/extract/id-hashes.ts';

const win = (ids: string[], duplicateIds: string[] = []) => ({ duplicateIds, idHashes: idHashesOf(new Set(ids), new Set(ids).size) });

describe('id hashes of finished windows', () => {
  it('hashes to 53-bit integers, the same id always alike, different ids apart', () => {
    const ids = Array.from({ length: 200_000 }, (_, i) => `2026100${String(i).padStart(7, '0')}`);
    const hashes = new Set(ids.map((id) => hashId(id)));
    expect(hashes.size).toBe(ids.length);
    for (const h of [...hashes].slice(0, 1000)) expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
    expect(hashId('abc')).toBe(hashId('abc'));
    expect(hashId('abc')).not.toBe(hashId('abd'));
  });

  it('lists the exact within-window duplicates when no id is in two windows', () => {
    expect(duplicateIdsAcross([win(['a', 'b'], ['b']), win(['c', 'd'], ['d', 'c'])])?.sort()).toEqual(['b', 'c', 'd']);
    expect(duplicateIdsAcross([win(['a'])])).toEqual([]);
    expect(duplicateIdsAcross([])).toEqual([]);
  });

  it('asks for every row to be de-duplicated when an id came in two windows', () => {
    // A CDR whose start time moved between the fetches of two windows of one partition.
    expect(duplicateIdsAcross([win(['a', 'moved']), win(['moved', 'z'])])).toBeUndefined();
  });
});
