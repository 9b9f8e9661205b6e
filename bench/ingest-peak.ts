/**
 * One backfill of a simulated month at any size, measured as the `memory` scenario measures it
 * (simulator and ingest in separate processes, concurrency 8, peak RSS = the ingest process's
 * VmHWM), but once: a 10-million-CDR figure without the harness's three runs per size.
 *
 *   npx tsx bench/ingest-peak.ts [--rows 10000000] [--concurrency 8] [--domains N]
 *
 * `--domains` fixes the domain count (default: as many as the harness gives that size). The
 * `memory` scenario backfills both of its sizes over the smaller size's domains, so its larger
 * backfill is `--rows 100000 --domains 10`, not the 20 domains 100k would get on its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ingestOnce, startExtractionSim } from './lib/extraction-setup.ts';
import { lakeCensus } from './lib/lake-check.ts';
import { domainsFor } from './lib/sizes.ts';
import type { BenchContext } from './lib/types.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '10000000' }, concurrency: { type: 'string', default: '8' }, domains: { type: 'string' } },
});
const rows = Number(values.rows);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(rows) || rows < 1000) throw new Error(`--rows must be a whole number >= 1000, got ${values.rows}`);
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new Error(`--concurrency must be a whole number >= 1, got ${values.concurrency}`);
const domainsArg = values.domains === undefined ? undefined : Number(values.domains);
if (domainsArg !== undefined && (!Number.isInteger(domainsArg) || domainsArg < 1))
  throw new Error(`--domains must be a whole number >= 1, got ${values.domains}`);

const workDir = await mkdtemp(join(tmpdir(), 'cdrpipe-ingest-peak-'));
const log = (line: string) => process.stderr.write(`[ingest-peak] ${line}\n`);
const ctx: BenchContext = { scale: 1, full: true, runs: 1, workDir, cacheDir: workDir, log, signal: new AbortController().signal };
try {
  const domains = domainsArg ?? domainsFor(rows);
  const sim = await startExtractionSim(ctx, { domains, targetRows: rows });
  try {
    const dataDir = join(workDir, 'data');
    const r = await ingestOnce(ctx, { url: sim.url, dataDir, concurrency });
    const census = await lakeCensus(dataDir);
    const MiB = 2 ** 20;
    process.stdout.write(
      `${domains} domains, ${sim.totals.total.toLocaleString('en-US')} CDRs in the month, concurrency ${concurrency}\n` +
        `peak RSS (VmHWM) ${(r.peakRssBytes / MiB).toFixed(0)} MiB, ingest ${(r.wallMs / 1000).toFixed(1)} s, ${r.summary.requests} requests\n` +
        `lake ${census.rows.toLocaleString('en-US')} rows (${census.rows === sim.totals.total ? 'equals' : 'DIFFERS FROM'} the ground truth)\n`,
    );
  } finally {
    await sim.stop();
  }
} finally {
  await rm(workDir, { recursive: true, force: true });
}
