import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { requireFiles } from '../lib/stage.ts';
import { median } from '../lib/stats.ts';
import { checkRow, info, limitRow, ratioRow } from '../lib/targets.ts';
import type { BenchContext, BenchRow, Scenario } from '../lib/types.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';
import { startWorker } from '../lib/worker.ts';
import type { TimedResult } from '../workers/carrier-import.ts';

/** Full size: 1M and 5M carrier records (the target's sizes); reduced: 100k and 500k. */
export const CARRIER_SMALL: SizeSpec = { full: 1_000_000, reduced: 100_000 };
export const CARRIER_LARGE: SizeSpec = { full: 5_000_000, reduced: 500_000 };

const NAME = 'carrier-import';
const MiB = 2 ** 20;
const NOW = new Date('2026-11-03T00:00:00Z');

/**
 * A generic-format carrier file of `rows` October 2026 records, numbers in the usual mixed forms
 * (cached between runs: deterministic, written once).
 */
async function carrierFile(ctx: BenchContext, rows: number): Promise<string> {
  const file = join(ctx.cacheDir, `carrier-generic-${rows}.csv`);
  if (
    await stat(file)
      .then((s) => s.size > 0)
      .catch(() => false)
  )
    return file;
  await mkdir(ctx.cacheDir, { recursive: true });
  ctx.log(`writing ${rows.toLocaleString('en-US')} carrier records to ${file}`);
  const out = createWriteStream(`${file}.tmp`);
  out.write('call_id,start_time,from,to,billed_seconds,cost\n');
  const start = Date.UTC(2026, 9, 1);
  const span = 31 * 86_400_000 - 600_000;
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const ms = start + Math.floor((i / rows) * span);
    const d = 2_000_000 + ((i * 7_919) % 7_999_999);
    const area = 201 + (i % 700);
    const e = `${area}555${String(d % 10_000).padStart(4, '0')}`;
    const to =
      i % 4 === 0
        ? `+1${e}`
        : i % 4 === 1
          ? `1${e}`
          : i % 4 === 2
            ? `(${e.slice(0, 3)}) ${e.slice(3, 6)}-${e.slice(6)}`
            : `011 44 20 ${String(d).slice(0, 4)} ${String(d).slice(4)}`;
    const secs = 6 * (1 + (i % 97));
    chunk += `CR-${i.toString(16).padStart(10, '0')},${new Date(ms).toISOString().slice(0, 19)}Z,+1202555${String(i % 10_000).padStart(4, '0')},${to},${secs},${((secs * 72) / 60_000).toFixed(4)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  const { rename } = await import('node:fs/promises');
  await rename(`${file}.tmp`, file);
  return file;
}

/** Runs one worker method in a fresh process (its peak RSS is that call's alone). */
async function inFreshWorker(ctx: BenchContext, method: string, params: unknown): Promise<TimedResult> {
  const w = await startWorker('carrier-import', { signal: ctx.signal });
  try {
    return await w.call<TimedResult>(method, params);
  } finally {
    await w.close();
  }
}

async function importOnce(ctx: BenchContext, file: string, label: string, run: number): Promise<TimedResult> {
  const dataDir = join(ctx.workDir, `carrier-${label}-${run + 1}`);
  try {
    return await inFreshWorker(ctx, 'importFile', { file, dataDir, now: NOW });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Carrier import: `importCarrierFile` (header check, one DuckDB read_csv pass into partitioned
 * Parquet, rejects, atomic publish) vs DuckDB's own read_csv -> Parquet of the same file, each in
 * a fresh process, pair by pair; and the import's peak RSS at two file sizes.
 */
export const carrierImport: Scenario = {
  name: NAME,
  title: 'carrier CDR import vs DuckDB read_csv -> Parquet; peak RSS at two file sizes',
  async run(ctx) {
    requireFiles(['pipeline/carrier/carrier-import.ts']);
    const smallRows = sizeOf(ctx, CARRIER_SMALL);
    const largeRows = sizeOf(ctx, CARRIER_LARGE);
    const small = await carrierFile(ctx, smallRows);
    const large = await carrierFile(ctx, largeRows);

    const smallRuns: TimedResult[] = [];
    for (let run = -1; run < ctx.runs; run++) {
      const r = await importOnce(ctx, small, 'small', run);
      ctx.log(
        `small ${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: ${r.rows} rows in ${r.wallMs.toFixed(0)} ms, peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB`,
      );
      if (run >= 0) smallRuns.push(r);
    }
    const pairs: { imp: TimedResult; duck: TimedResult }[] = [];
    for (let run = -1; run < ctx.runs; run++) {
      const imp = await importOnce(ctx, large, 'large', run);
      const out = join(ctx.workDir, `duckdb-${run + 1}.parquet`);
      const duck = await inFreshWorker(ctx, 'duckdbCopy', { file: large, out });
      await rm(out, { force: true });
      ctx.log(
        `large ${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: import ${imp.wallMs.toFixed(0)} ms (peak RSS ${(imp.peakRssBytes / MiB).toFixed(0)} MiB), duckdb ${duck.wallMs.toFixed(0)} ms, import/duckdb ${(imp.wallMs / duck.wallMs).toFixed(3)}`,
      );
      if (run >= 0) pairs.push({ imp, duck });
    }
    const timeRatio = median(pairs.map((p) => p.imp.wallMs / p.duck.wallMs));
    const rssRatio = median(pairs.map((p, i) => p.imp.peakRssBytes / smallRuns[i]!.peakRssBytes));
    const importRate = largeRows / (median(pairs.map((p) => p.imp.wallMs)) / 1000);
    const duckRate = largeRows / (median(pairs.map((p) => p.duck.wallMs)) / 1000);
    const reduced = reducedNote(ctx, CARRIER_LARGE, 'records');
    const rows: BenchRow[] = [
      ratioRow(
        NAME,
        'import time / DuckDB read_csv -> Parquet time',
        timeRatio,
        { limit: 1.25 },
        notes("<= 1.25 is a rate >= 0.8x DuckDB's", `${largeRows.toLocaleString('en-US')} records`, reduced),
      ),
      info(NAME, 'import rate', importRate, 'rows/s'),
      info(NAME, 'DuckDB read_csv -> Parquet rate', duckRate, 'rows/s'),
      limitRow(
        NAME,
        `peak RSS at ${smallRows.toLocaleString('en-US')} records`,
        median(smallRuns.map((r) => r.peakRssBytes)) / MiB,
        'MiB',
        1024,
        true,
      ),
      limitRow(
        NAME,
        `peak RSS at ${largeRows.toLocaleString('en-US')} records`,
        median(pairs.map((p) => p.imp.peakRssBytes)) / MiB,
        'MiB',
        1024,
        true,
      ),
      ratioRow(NAME, 'larger / smaller peak RSS', rssRatio, { limit: 1.2 }, reduced),
      checkRow(
        NAME,
        'every record imported, none rejected (both sizes)',
        smallRuns.every((r) => r.rows === smallRows && r.rejected === 0) &&
          pairs.every((p) => p.imp.rows === largeRows && p.imp.rejected === 0 && p.duck.rows === largeRows),
        `${smallRuns[0]?.rows}/${smallRows}, ${pairs[0]?.imp.rows}/${largeRows}`,
      ),
    ];
    return { status: 'ok', rows };
  },
};
