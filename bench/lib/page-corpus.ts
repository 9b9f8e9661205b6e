import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { generateDomainDay, utcDayOf } from '../../pipeline/simulator/cdr-gen.ts';
import { renderEntries } from '../../pipeline/simulator/cdr-store.ts';
import { CANONICAL_FORMAT } from '../../pipeline/simulator/datetime-format.ts';
import { generateDomains } from '../../pipeline/simulator/domain-gen.ts';
import { PageSpool } from '../../pipeline/extract/spool.ts';
import { parseCdrPage } from '../../pipeline/source/cdr-page.ts';

/**
 * Saved API page bodies: what `/domains/{d}/cdrs` answers, one JSON array of <= 1000 records per
 * file (`files`), and the same pages as the ingest's spool writes them (`spoolFiles`: parsed,
 * validated and written by the pipeline's own parseCdrPage and PageSpool).
 */
export interface PageCorpus {
  dir: string;
  rows: number;
  bytes: number;
  month: string;
  from: Date;
  to: Date;
  domains: { domain: string; rows: number; files: string[]; spoolFiles: string[] }[];
}

export interface CorpusSpec {
  cacheDir: string;
  seed: number;
  domains: number;
  targetRows: number;
  /** UTC month the calls start in. */
  from: Date;
  to: Date;
  month: string;
  pageSize?: number;
}

/**
 * Writes (or reuses from the cache) the page bodies the simulator would serve for a month of
 * `domains` domains, at the volume that gives about `targetRows` CDRs. Uses the simulator's
 * pure generator directly: no HTTP, so building a million-CDR corpus takes seconds.
 * Page files are named by a global fetch sequence (`<n>.json`); spool files are under
 * `spool/<domain dir>/`, named as the ingest's spool names them.
 */
export async function ensurePageCorpus(spec: CorpusSpec, log: (line: string) => void): Promise<PageCorpus> {
  const pageSize = spec.pageSize ?? 1000;
  // n3: with spool files.
  const key = `pages-s${spec.seed}-d${spec.domains}-r${spec.targetRows}-${spec.month}-p${pageSize}-n3`;
  const dir = join(spec.cacheDir, key);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Omit<PageCorpus, 'from' | 'to'> & { from: string; to: string };
    log(`reusing ${m.rows.toLocaleString('en-US')} CDRs of page bodies in ${dir}`);
    return { ...m, from: new Date(m.from), to: new Date(m.to) };
  }
  const profiles = generateDomains({ seed: spec.seed, count: spec.domains });
  const firstDay = utcDayOf(spec.from.getTime());
  const lastDay = utcDayOf(spec.to.getTime() - 1);
  let unit = 0;
  for (const p of profiles)
    for (let d = firstDay; d <= lastDay; d++) unit += generateDomainDay(p, d, { seed: spec.seed, volume: 1 }).length;
  const volume = spec.targetRows / Math.max(1, unit);

  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  let seq = 0;
  let rows = 0;
  let bytes = 0;
  const domains: PageCorpus['domains'] = [];
  for (const [i, p] of profiles.entries()) {
    const dname = `d${String(i).padStart(4, '0')}`;
    const sub = join(tmp, dname);
    await mkdir(sub);
    const entries = [];
    for (let d = firstDay; d <= lastDay; d++) {
      for (const e of generateDomainDay(p, d, { seed: spec.seed, volume })) {
        if (e.startMs >= spec.from.getTime() && e.startMs < spec.to.getTime()) entries.push(e);
      }
    }
    const files: string[] = [];
    const spoolFiles: string[] = [];
    const spool = await PageSpool.create(join(tmp, 'spool', dname));
    const window = { start: spec.from, end: spec.to };
    for (let off = 0; off < entries.length; off += pageSize) {
      const body = renderEntries(entries.slice(off, off + pageSize), CANONICAL_FORMAT);
      const name = `${++seq}.json`;
      await writeFile(join(sub, name), body);
      files.push(join(dir, dname, name));
      bytes += Buffer.byteLength(body);
      const page = parseCdrPage(body.toString('utf8'), { domain: p.domain, window, offset: off, limit: pageSize });
      const spooled = await spool.writePage(page);
      if (spooled) spoolFiles.push(join(dir, 'spool', dname, basename(spooled)));
    }
    rows += entries.length;
    domains.push({ domain: p.domain, rows: entries.length, files, spoolFiles });
  }
  const corpus: PageCorpus = { dir, rows, bytes, month: spec.month, from: spec.from, to: spec.to, domains };
  await writeFile(join(tmp, 'manifest.json'), JSON.stringify(corpus));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  log(`wrote ${rows.toLocaleString('en-US')} CDRs as ${seq} page bodies (${(bytes / 2 ** 20).toFixed(0)} MiB) to ${dir}`);
  return corpus;
}
