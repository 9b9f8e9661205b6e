/**
 * Quoted-printable text exactly as nodemailer writes it (its `qp` module's `wrap(encode(...), 76)`,
 * byte for byte) at a fraction of the cost: nodemailer tests every byte against a list of ranges
 * and grows the line breaks with a regular expression per line, which made encoding a 60 KB report
 * page the largest single cost of sending it. Same rules, decided with a table and index arithmetic.
 */

/** Bytes written as themselves (RFC 2045 6.7): TAB, LF, CR, space to '<', '>' to '~'. */
const LITERAL = new Uint8Array(256);
for (let b = 0; b < 256; b++)
  LITERAL[b] = b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x3c) || (b >= 0x3e && b <= 0x7e) ? 1 : 0;
const ESCAPED = Array.from({ length: 256 }, (_, b) => `=${b < 0x10 ? '0' : ''}${b.toString(16).toUpperCase()}`);

/** nodemailer's `encode`: unsafe bytes, and a space or TAB before a line end or at the very end, as =XX. */
export function qpEncode(buffer: Buffer): string {
  let out = '';
  let run = 0;
  const len = buffer.length;
  for (let i = 0; i < len; i++) {
    const b = buffer[i]!;
    if (LITERAL[b] === 1) {
      if (b !== 0x20 && b !== 0x09) continue;
      const next = i === len - 1 ? -1 : buffer[i + 1]!;
      if (next !== -1 && next !== 0x0a && next !== 0x0d) continue;
    }
    out += buffer.toString('latin1', run, i) + ESCAPED[b]!;
    run = i + 1;
  }
  return out + buffer.toString('latin1', run, len);
}

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isBreakChar = (c: number) => c === 0x20 || c === 0x09 || c === 0x2e || c === 0x2c || c === 0x21 || c === 0x3f;

/** True when `line` ends with `=` and `min` to 2 hex digits (nodemailer's /[=][\da-f]{min,2}$/i). */
function endsWithEscape(line: string, min: number): boolean {
  const n = line.length;
  for (let k = min; k <= 2; k++) {
    if (n < k + 1 || line.charCodeAt(n - k - 1) !== 0x3d) continue;
    let hex = true;
    for (let j = n - k; j < n; j++) if (!isHex(line.charCodeAt(j))) hex = false;
    if (hex) return true;
  }
  return false;
}

/** True when `line` is nothing but 1 to 4 =XX escapes (nodemailer's /^(?:=[\da-f]{2}){1,4}$/i). */
function onlyEscapes(line: string): boolean {
  const n = line.length;
  if (n === 0 || n % 3 !== 0 || n > 12) return false;
  for (let i = 0; i < n; i += 3) {
    if (line.charCodeAt(i) !== 0x3d || !isHex(line.charCodeAt(i + 1)) || !isHex(line.charCodeAt(i + 2))) return false;
  }
  return true;
}

/** nodemailer's `wrap`: soft line breaks (`=\r\n`) so no line exceeds `lineLength`, never inside an escape or a UTF-8 sequence. */
export function qpWrap(str: string, lineLength = 76): string {
  if (str.length <= lineLength) return str;
  const len = str.length;
  const margin = Math.floor(lineLength / 3);
  let pos = 0;
  let result = '';
  while (pos < len) {
    let line = str.substr(pos, lineLength);
    const crlf = line.indexOf('\r\n');
    if (crlf !== -1) {
      line = line.slice(0, crlf + 2);
      result += line;
      pos += line.length;
      continue;
    }
    if (line.charCodeAt(line.length - 1) === 0x0a) {
      result += line;
      pos += line.length;
      continue;
    }
    const tailStart = Math.max(0, line.length - margin);
    // /\n.*?$/ on the tail: its last LF with no CR or LF after it.
    const lf = line.lastIndexOf('\n');
    if (lf >= tailStart && line.indexOf('\r', lf) === -1) {
      line = line.slice(0, lf + 1);
      result += line;
      pos += line.length;
      continue;
    }
    let breakAt = -1;
    if (line.length > lineLength - margin) {
      for (let i = line.length - 1; i >= tailStart; i--) {
        if (isBreakChar(line.charCodeAt(i))) {
          breakAt = i;
          break;
        }
      }
    }
    if (breakAt !== -1) {
      line = line.slice(0, breakAt + 1);
    } else if (endsWithEscape(line, 0)) {
      // An incomplete escape goes to the next line.
      if (line.charCodeAt(line.length - 1) === 0x3d) line = line.slice(0, -1);
      else if (line.length >= 2 && line.charCodeAt(line.length - 2) === 0x3d && isHex(line.charCodeAt(line.length - 1)))
        line = line.slice(0, -2);
      // Nor is a UTF-8 sequence split.
      while (line.length > 3 && line.length < len - pos && !onlyEscapes(line) && endsWithEscape(line, 2)) {
        const code = parseInt(line.slice(-2), 16);
        if (code < 128) break;
        line = line.slice(0, -3);
        if (code >= 0xc0) break;
      }
    }
    if (pos + line.length < len && line.charCodeAt(line.length - 1) !== 0x0a) {
      if (line.length === lineLength && endsWithEscape(line, 2)) line = line.slice(0, -3);
      else if (line.length === lineLength) line = line.slice(0, -1);
      pos += line.length;
      line += '=\r\n';
    } else {
      pos += line.length;
    }
    result += line;
  }
  return result;
}

/** `text` as nodemailer's quoted-printable body for it (UTF-8). */
export function quotedPrintable(text: string): string {
  return qpWrap(qpEncode(Buffer.from(text, 'utf8')), 76);
}
