import { describe, expect, it } from 'vitest';
import { RecordNumberer } from '../../pipeline/carrier/carrier-numbered.ts';

/** Numbers `text` read in chunks of `size` bytes (every split point a chunk boundary can fall on). */
function numbered(text: string, size: number, delimiter = ','): string {
  const n = new RecordNumberer(delimiter);
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let p = 0; p < bytes.length; p += size) out.push(Buffer.from(n.push(bytes.subarray(p, p + size))));
  out.push(Buffer.from(n.end()));
  return Buffer.concat(out).toString();
}

const FILE = ['id,"note', 'A,plain', '', 'B,"two\nlines"', '\r', 'C,"a ""quoted"" word"\r', 'D,x\r', 'E,last'].join('\n');

const EXPECTED = ['1,id,"note', '2,A,plain', '', '4,B,"two\nlines"', '\r', '7,C,"a ""quoted"" word"\r', '8,D,x\r', '9,E,last'].join('\n');

describe('carrier record numbering', () => {
  it("puts each record's line in front of it: blank lines stay blank, quoted line breaks continue the record, the header's quotes do not carry over", () => {
    for (const size of [1, 2, 3, 5, 7, 64, 1 << 16]) expect(numbered(FILE, size)).toBe(EXPECTED);
  });

  it('uses the file delimiter and keeps line endings, also at the end of the text', () => {
    expect(numbered('a;b\r\n1;2\r\n\r\n3;4\r', 1, ';')).toBe('1;a;b\r\n2;1;2\r\n\r\n4;3;4\r');
    expect(numbered('a\tb\n\r', 3, '\t')).toBe('1\ta\tb\n\r');
    expect(numbered('', 4)).toBe('');
  });

  it('numbers lines past the first chunk with as many digits as they need', () => {
    const lines = Array.from({ length: 12_345 }, (_, i) => `r${i}`);
    const out = numbered(lines.join('\n') + '\n', 4096).split('\n');
    expect(out[0]).toBe('1,r0');
    expect(out[9_999]).toBe('10000,r9999');
    expect(out[12_344]).toBe('12345,r12344');
  });
});
