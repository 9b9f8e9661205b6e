import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/**
 * Writes a carrier file's text with each record's line number in front of it, as an extra first
 * field: `7,A6,2026-10-03T12:09:00Z,…` for the record on line 7. DuckDB then reads the line number
 * with the fields, in one parallel pass that needs no row order (numbering rows while reading
 * keeps a read on one thread; numbering them by position needs an ordered copy of the file first).
 *
 * Lines are counted by line feeds, a record starts on a line that does not continue a quoted
 * field, and the header's quotes do not carry over, as the hash-and-line scan (carrier-scan.ts)
 * counts them. Blank lines get no number, so DuckDB skips them as before. Nothing else changes:
 * the copy has the same lines, so DuckDB's own line numbers (of lines it cannot split) are the
 * original file's.
 */
export class RecordNumberer {
  private line = 1;
  private atLineStart = true;
  private inQuote = false;
  /** A record's line began with a CR at the end of the last chunk: blank or not depends on the next byte. */
  private pendingCr = false;
  private out = Buffer.allocUnsafeSlow(1 << 16);
  /** Two output buffers take turns: one chunk's text can be written while the next is numbered. */
  private spare = Buffer.allocUnsafeSlow(1 << 16);
  private o = 0;
  private readonly delimiter: Buffer;

  constructor(delimiter: string) {
    this.delimiter = Buffer.from(delimiter, 'utf8');
  }

  /** The numbered text of one chunk; valid until the call after next. */
  push(buf: Buffer): Buffer {
    this.turn();
    let i = 0;
    const n = buf.length;
    if (this.pendingCr && n > 0) {
      this.pendingCr = false;
      this.reserve(PREFIX_ROOM);
      if (buf[0] !== 10) this.emitNumber();
      this.out[this.o++] = 13;
    }
    // Line feeds and quotes are found with the native Buffer.indexOf, each line copied whole.
    let out = this.out;
    let o = this.o;
    let inQuote = this.inQuote;
    let nextQuote = buf.indexOf(34);
    while (i < n) {
      if (this.atLineStart) {
        this.atLineStart = false;
        if (!inQuote) {
          const b = buf[i];
          if (b === 13 && i + 1 === n) {
            this.pendingCr = true;
            break;
          }
          // A blank line (nothing, or only a CR, before its line feed) stays blank.
          if (b !== 10 && !(b === 13 && buf[i + 1] === 10)) {
            if (o + PREFIX_ROOM > out.length) {
              this.o = o;
              this.reserve(PREFIX_ROOM);
              out = this.out;
            }
            o = this.writeNumber(out, o);
          }
        }
      }
      const nl = buf.indexOf(10, i);
      const end = nl === -1 ? n : nl + 1;
      if (nextQuote !== -1 && nextQuote < i) nextQuote = buf.indexOf(34, i);
      while (nextQuote !== -1 && nextQuote < end) {
        inQuote = !inQuote;
        nextQuote = buf.indexOf(34, nextQuote + 1);
      }
      if (o + (end - i) > out.length) {
        this.o = o;
        this.reserve(end - i);
        out = this.out;
      }
      o += buf.copy(out, o, i, end);
      i = end;
      if (nl !== -1) {
        if (this.line === 1) inQuote = false;
        this.line++;
        this.atLineStart = true;
      }
    }
    this.o = o;
    this.inQuote = inQuote;
    return this.out.subarray(0, this.o);
  }

  /** What is left at the end of the text (a CR the last chunk ended on). */
  end(): Buffer {
    this.turn();
    if (this.pendingCr) {
      this.reserve(1);
      this.out[this.o++] = 13;
    }
    this.pendingCr = false;
    return this.out.subarray(0, this.o);
  }

  private turn(): void {
    [this.out, this.spare] = [this.spare, this.out];
    this.o = 0;
  }

  private emitNumber(): void {
    this.o = this.writeNumber(this.out, this.o);
  }

  /** The current line's number and the delimiter at `o` (room for PREFIX_ROOM bytes is there). */
  private writeNumber(out: Buffer, o: number): number {
    let v = this.line;
    let len = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) len++;
    for (let k = o + len - 1; k >= o; k--) {
      out[k] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    o += len;
    for (let k = 0; k < this.delimiter.length; k++) out[o++] = this.delimiter[k]!;
    return o;
  }

  private reserve(n: number): void {
    if (this.o + n <= this.out.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.o + n + (1 << 16)));
    this.out.copy(grown, 0, 0, this.o);
    this.out = grown;
  }
}

/** Room for one line number and delimiter. */
const PREFIX_ROOM = 32;

export interface NumberedCopyInput {
  /** The carrier's file, plain or gzip-compressed. */
  file: string;
  gzip: boolean;
  delimiter: string;
  /** Where the numbered text goes (uncompressed, so DuckDB reads it in parallel). */
  out: string;
  signal?: AbortSignal;
}

/** Streams `file` (unpacking gzip) into `out` with each record's line number in front (see RecordNumberer). */
export async function writeNumberedCopy(input: NumberedCopyInput): Promise<void> {
  const numberer = new RecordNumberer(input.delimiter);
  const out = await open(input.out, 'w');
  // The write of one chunk runs (on libuv's thread pool) while the next is read and numbered.
  let pending: Promise<void> = Promise.resolve();
  try {
    const write = async (b: Buffer) => {
      await pending;
      pending = b.length > 0 ? writeAll(out, b) : Promise.resolve();
      // Awaited on the next turn or at the end; this keeps a failed write from counting as unhandled meanwhile.
      pending.catch(() => {});
    };
    if (input.gzip) {
      const raw = createReadStream(input.file, { highWaterMark: 1 << 20, signal: input.signal });
      const text = raw.pipe(createGunzip());
      raw.on('error', (err) => text.destroy(err));
      for await (const chunk of text) await write(numberer.push(chunk as Buffer));
    } else {
      // One buffer reused for every read, as the scan does.
      const fh = await open(input.file, 'r');
      try {
        const buf = Buffer.allocUnsafeSlow(1 << 20);
        for (;;) {
          input.signal?.throwIfAborted();
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          await write(numberer.push(buf.subarray(0, bytesRead)));
        }
      } finally {
        await fh.close();
      }
    }
    await write(numberer.end());
    await pending;
  } finally {
    await pending.catch(() => {});
    await out.close();
  }
}

async function writeAll(fh: FileHandle, b: Buffer): Promise<void> {
  let done = 0;
  while (done < b.length) done += (await fh.write(b, done, b.length - done)).bytesWritten;
}
