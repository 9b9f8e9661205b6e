import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** What one streaming pass over a carrier file learns before DuckDB reads it. */
export interface FileScan {
  /** SHA-256 of the file's bytes as given (compressed or not). */
  sha256: string;
  gzip: boolean;
  /** The first line, undefined for an empty file. */
  headerLine?: string;
  /**
   * Blank lines, numbered as DuckDB numbers lines (a quoted line break does not start a new line);
   * DuckDB skips them, so they shift the line numbers of the records after them.
   */
  blankLines: number[];
  /** Records that span several physical lines (quoted line breaks): their line and the lines they add. */
  multiLine: { line: number; extra: number }[];
  /**
   * No quote and no carriage return outside a CRLF after the header: no field of any record holds
   * the delimiter, a quote or a line break, so a record's fields joined by the delimiter are its line.
   */
  plainRecords: boolean;
}

/** More irregular lines than this and the file is not a CDR export worth importing line by line. */
const MAX_IRREGULAR = 1_000_000;
const MAX_HEADER_BYTES = 1 << 20;

/**
 * Tracks physical lines, quotes and blank lines over a byte stream, chunk by chunk, in constant
 * memory (apart from the rare irregular lines it lists). Line ends are found with the native
 * Buffer.indexOf, so the pass costs little next to DuckDB's parse.
 */
export class LineScanner {
  private duck = 1;
  private inQuote = false;
  private lineLen = 0;
  private recordLine = 1;
  private recordExtra = 0;
  private headerParts: Buffer[] | undefined = [];
  private headerBytes = 0;
  private sawBytes = false;
  private quoteOrCr = false;
  private crAtEnd = false;
  readonly blankLines: number[] = [];
  readonly multiLine: { line: number; extra: number }[] = [];
  headerLine: string | undefined;

  /** See FileScan.plainRecords. */
  get plainRecords(): boolean {
    return !this.quoteOrCr && !this.crAtEnd;
  }

  push(buf: Buffer): void {
    if (buf.length > 0) this.sawBytes = true;
    if (this.crAtEnd && buf.length > 0 && buf[0] !== 10) this.quoteOrCr = true;
    if (buf.length > 0) this.crAtEnd = false;
    for (let cr = this.quoteOrCr ? -1 : buf.indexOf(13); cr !== -1; cr = buf.indexOf(13, cr + 1)) {
      if (cr === buf.length - 1) this.crAtEnd = true;
      else if (buf[cr + 1] !== 10) {
        this.quoteOrCr = true;
        break;
      }
    }
    let pos = 0;
    let nextQuote = buf.indexOf(34);
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const end = nl === -1 ? buf.length : nl;
      // The next quote is looked up once and reused until the scan passes it (searching from
      // every line start would rescan the rest of the chunk for each line of a quote-free file).
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buf.indexOf(34, pos);
      while (nextQuote !== -1 && nextQuote < end) {
        if (!this.headerParts) this.quoteOrCr = true;
        this.inQuote = !this.inQuote;
        nextQuote = buf.indexOf(34, nextQuote + 1);
      }
      this.lineLen += end - pos - (end > pos && buf[end - 1] === 13 ? 1 : 0);
      if (this.headerParts && this.headerBytes < MAX_HEADER_BYTES) {
        // A copy: the caller may reuse `buf` for the next read.
        this.headerParts.push(Buffer.from(buf.subarray(pos, end)));
        this.headerBytes += end - pos;
      }
      if (nl === -1) break;
      this.endLine();
      pos = nl + 1;
    }
  }

  private endLine(): void {
    if (this.headerParts) {
      this.headerLine = Buffer.concat(this.headerParts).toString('utf8');
      this.headerParts = undefined;
      this.inQuote = false;
    }
    if (this.inQuote) {
      this.recordExtra++;
    } else {
      if (this.lineLen === 0 && this.recordExtra === 0) this.blankLines.push(this.duck);
      if (this.recordExtra > 0) this.multiLine.push({ line: this.recordLine, extra: this.recordExtra });
      if (this.blankLines.length + this.multiLine.length > MAX_IRREGULAR) {
        throw new Error(`more than ${MAX_IRREGULAR} blank or multi-line records`);
      }
      this.duck++;
      this.recordLine = this.duck;
      this.recordExtra = 0;
    }
    this.lineLen = 0;
  }

  end(): void {
    if (this.headerParts && this.sawBytes) this.headerLine = Buffer.concat(this.headerParts).toString('utf8');
    this.headerParts = undefined;
    if (this.recordExtra > 0) this.multiLine.push({ line: this.recordLine, extra: this.recordExtra });
  }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** One streaming pass: the hash of the bytes, and the header and line irregularities of the text. */
export async function scanFile(path: string, signal?: AbortSignal): Promise<FileScan> {
  const gzip = await isGzip(path);
  const hash = createHash('sha256');
  const scanner = new LineScanner();
  if (gzip) {
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const raw = createReadStream(path, { highWaterMark: 1 << 20, signal });
    const text: Readable = raw.pipe(tap).pipe(createGunzip());
    raw.on('error', (err) => text.destroy(err));
    tap.on('error', (err) => text.destroy(err));
    for await (const chunk of text) scanner.push(chunk as Buffer);
  } else {
    // One buffer reused for every read: a fresh buffer per chunk (as a read stream allocates)
    // costs more in page faults than hashing and scanning the chunk.
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafeSlow(1 << 20);
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        hash.update(chunk);
        scanner.push(chunk);
      }
    } finally {
      await fh.close();
    }
  }
  scanner.end();
  return {
    sha256: hash.digest('hex'),
    gzip,
    ...(scanner.headerLine !== undefined ? { headerLine: scanner.headerLine } : {}),
    blankLines: scanner.blankLines,
    multiLine: scanner.multiLine,
    plainRecords: scanner.plainRecords,
  };
}
