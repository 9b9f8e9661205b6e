import { open } from 'node:fs/promises';

const MAGIC = 'PAR1';
/** Leading magic + footer length + trailing magic: the smallest a Parquet file can be. */
const MIN_BYTES = 12;

/**
 * Why a file cannot be a whole Parquet file, from its first and last bytes alone (no decoding):
 * a Parquet file starts and ends with `PAR1`, and just before the trailing magic says how long
 * its footer is. A file cut short (a disk filled up, a copy interrupted) fails this check.
 * Undefined when the frame is intact; the footer's contents are DuckDB's to judge.
 */
export async function parquetFrameFault(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < MIN_BYTES) return `truncated: ${size} bytes, shorter than any Parquet file`;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    await fh.read(head, 0, 4, 0);
    await fh.read(tail, 0, 8, size - 8);
    if (head.toString('latin1') !== MAGIC) return `not a Parquet file: it does not start with ${MAGIC} (${size} bytes)`;
    if (tail.toString('latin1', 4) !== MAGIC) return `truncated: it does not end with the Parquet footer marker ${MAGIC} (${size} bytes)`;
    const footer = tail.readUInt32LE(0);
    if (footer > size - MIN_BYTES) return `truncated: its footer claims ${footer} bytes of a ${size}-byte file`;
    return undefined;
  } finally {
    await fh.close();
  }
}
