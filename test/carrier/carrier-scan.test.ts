import { describe, expect, it } from 'vitest';
import { LineScanner } from '../../pipeline/carrier/carrier-scan.ts';

/** Scans `chunks` as consecutive reads of one file. */
function scan(...chunks: string[]): LineScanner {
  const s = new LineScanner();
  for (const c of chunks) s.push(Buffer.from(c));
  s.end();
  return s;
}

describe('carrier line scan', () => {
  it('says whether a record line can be rebuilt by joining its fields (no quote, no lone CR after the header)', () => {
    expect(scan('"a","b"\n1,2\n3,4\n').plainRecords).toBe(true);
    expect(scan('a,b\r\n1,2\r', '\n3,4\r\n').plainRecords).toBe(true);
    expect(scan('a,b\n1,"2,5"\n').plainRecords).toBe(false);
    expect(scan('a,b\n1,2\r3,4\n').plainRecords).toBe(false);
    expect(scan('a,b\n1,2\r', '3,4\n').plainRecords).toBe(false);
    expect(scan('a,b\n1,2\r').plainRecords).toBe(false);
  });
});
