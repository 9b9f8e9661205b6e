/**
 * The quoted-printable bodies of report parts are byte for byte nodemailer's own encoder's
 * (`wrap(encode(...), 76)` of its qp module), on text built to hit every rule: escapes and UTF-8
 * sequences at the line limit, spaces and TABs before line ends, CR, LF and CRLF, break characters
 * near the limit, long runs with none.
 */
import qp from 'nodemailer/lib/qp/index.js';
import { describe, expect, it } from 'vitest';
import { qpEncode, qpWrap, quotedPrintable } from '../../pipeline/deliver/quoted-printable.ts';

const PIECES = [
  'a',
  'Z',
  ' ',
  '\t',
  '.',
  ',',
  '!',
  '?',
  '=',
  '\r\n',
  '\n',
  '\r',
  'é',
  '€',
  '東',
  '😀',
  '\x01',
  '~',
  '<td class="x">',
  'x'.repeat(70),
  ' \n',
  '=3D',
];

/** A deterministic pseudo-random string of the pieces above. */
function sample(seed: number, length: number): string {
  let s = seed;
  let out = '';
  while (out.length < length) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out += PIECES[s % PIECES.length];
  }
  return out;
}

describe('quoted-printable', () => {
  it('encodes and wraps exactly as nodemailer does', () => {
    const texts = ['', ' ', 'a ', `${'x'.repeat(75)} `, `${'y'.repeat(74)}é`, `${'é'.repeat(40)}`, `${'z'.repeat(73)}=\r\n`];
    for (let seed = 1; seed <= 400; seed++) texts.push(sample(seed, 20 + (seed % 7) * 90));
    texts.push(sample(401, 140_000));
    for (const text of texts) {
      const buf = Buffer.from(text, 'utf8');
      const encoded = qp.encode(buf);
      expect(qpEncode(buf)).toBe(encoded);
      expect(qpWrap(encoded, 76)).toBe(qp.wrap(encoded, 76));
      expect(quotedPrintable(text)).toBe(qp.wrap(encoded, 76));
    }
  });
});
