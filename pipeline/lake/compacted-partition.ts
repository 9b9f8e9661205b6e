/**
 * The compacted shape of a closed month: instead of one partition per domain, a few files sorted
 * by domain under one partition `month=YYYY-MM/domain=_compacted.gNNNNNN~<hash>/part-NN.parquet`.
 *
 * The partition value is a short name (partition-path.ts: `<prefix>~<hash>`), so every reader that
 * already takes `coalesce(domain_name, domain)` for long domain names reads compacted files right:
 * each row carries its domain in `domain_name`. The hash is of the month and generation, never of
 * a domain, so no domain's own partition can share the name.
 *
 * Which rows count (the rule every reader applies; lake/counted-rows-sql.ts writes it as SQL):
 * - a domain's own partition, where one exists, holds all of that domain's rows for the month;
 * - otherwise its rows in the newest compacted generation of the month count;
 * - older generations never count.
 * Compaction publishes a new generation with one rename, then removes the per-domain partitions
 * and the older generation it folded in; a late CDR for a compacted month starts the domain's own
 * partition again from its compacted rows. Every intermediate state reads the same rows, so a
 * killed compaction or ingest leaves the lake correct, and the next compaction tidies up.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cdrsDir, partitionDir } from './layout.ts';

/** The start of every compacted partition value (12 characters: the readers' SQL tests `substr(domain, 1, 12)`). */
export const COMPACTED_PREFIX = '_compacted.g';
const GEN_DIGITS = 6;

function hashOf(month: string, generation: number): string {
  return createHash('sha256').update(`compacted:${month}:${generation}`, 'utf8').digest('hex').slice(0, 32);
}

/** The partition value (path segment after `domain=`) of a month's compacted generation. */
export function compactedPartitionValue(month: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 1 || generation >= 10 ** GEN_DIGITS) {
    throw new Error(`compacted generation ${generation}: expected 1..${10 ** GEN_DIGITS - 1}`);
  }
  return `${COMPACTED_PREFIX}${String(generation).padStart(GEN_DIGITS, '0')}~${hashOf(month, generation)}`;
}

/** The generation a partition value names for `month`, or undefined when it is not a compacted partition of it. */
export function compactedGeneration(month: string, value: string): number | undefined {
  const m = new RegExp(`^${COMPACTED_PREFIX.replace('.', '\\.')}(\\d{${GEN_DIGITS}})~([0-9a-f]{32})$`).exec(value);
  if (!m) return undefined;
  const generation = Number(m[1]);
  return generation >= 1 && m[2] === hashOf(month, generation) ? generation : undefined;
}

/** A month's partitions as found on disk: per-domain partition values, and compacted generations (oldest first). */
export interface MonthPartitions {
  domains: string[];
  generations: { generation: number; dir: string; files: string[] }[];
}

/** Lists one month's partitions (an absent month has none). */
export function monthPartitions(dataDir: string, month: string): MonthPartitions {
  const dir = join(cdrsDir(dataDir), `month=${month}`);
  const out: MonthPartitions = { domains: [], generations: [] };
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || !e.name.startsWith('domain=')) continue;
    const value = e.name.slice('domain='.length);
    const generation = compactedGeneration(month, value);
    if (generation === undefined) {
      out.domains.push(value);
      continue;
    }
    const gdir = join(dir, e.name);
    const files = readdirSync(gdir)
      .filter((f) => f.endsWith('.parquet'))
      .sort()
      .map((f) => join(gdir, f));
    out.generations.push({ generation, dir: gdir, files });
  }
  out.domains.sort();
  out.generations.sort((a, b) => a.generation - b.generation);
  return out;
}

/** The files of a month's newest compacted generation (none when the month is not compacted). */
export function newestCompactedFiles(dataDir: string, month: string): string[] {
  return monthPartitions(dataDir, month).generations.at(-1)?.files ?? [];
}

/** True when any month of the lake has a compacted partition (readers then apply the rule above). */
export function lakeHasCompactedMonths(dataDir: string): boolean {
  const root = cdrsDir(dataDir);
  if (!existsSync(root)) return false;
  for (const m of readdirSync(root)) {
    if (!m.startsWith('month=')) continue;
    if (monthPartitions(dataDir, m.slice('month='.length)).generations.length > 0) return true;
  }
  return false;
}

/**
 * Where one domain's rows of a month are, by the rule above: its own partition's files, or the
 * newest compacted generation's files (whose rows must then be filtered on `domain_name`).
 */
export function domainMonthFiles(dataDir: string, month: string, domain: string): { files: string[]; compacted: boolean } {
  const own = partitionDir(dataDir, month, domain);
  if (existsSync(own)) {
    const files = readdirSync(own)
      .filter((f) => f.endsWith('.parquet'))
      .sort()
      .map((f) => join(own, f));
    if (files.length > 0) return { files, compacted: false };
  }
  return { files: newestCompactedFiles(dataDir, month), compacted: true };
}
