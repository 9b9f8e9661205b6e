import { describe, expect, it } from 'vitest';
import { decodePartitionValue, encodePartitionValue } from '../../pipeline/lake/partition-path.ts';
import { partitionDir } from '../../pipeline/lake/layout.ts';

describe('partition values', () => {
  it('keeps [A-Za-z0-9._-] and percent-encodes everything else as UTF-8', () => {
    expect(encodePartitionValue('acme.pbx-1_x')).toBe('acme.pbx-1_x');
    expect(encodePartitionValue('../x')).toBe('..%2Fx');
    expect(encodePartitionValue('a/b c')).toBe('a%2Fb%20c');
    expect(encodePartitionValue('café')).toBe('caf%C3%A9');
    expect(encodePartitionValue('100%')).toBe('100%25');
  });
  it('round-trips', () => {
    for (const v of ['../x', 'a/b', 'spaces here', 'ünïcødé.example', '%41', 'x\\y']) {
      expect(decodePartitionValue(encodePartitionValue(v))).toBe(v);
    }
  });
  it('refuses names that would address the directory itself or its parent', () => {
    for (const v of ['', '.', '..']) expect(() => encodePartitionValue(v)).toThrow(/refusing/);
  });
  it('never lets a domain leave its month directory', () => {
    const dir = partitionDir('/data', '2026-10', '../../etc');
    expect(dir).toBe('/data/lake/cdrs/month=2026-10/domain=..%2F..%2Fetc');
  });
});
