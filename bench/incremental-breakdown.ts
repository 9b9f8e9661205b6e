/**
 * Where an incremental transform's time goes, step by step, on the incremental-transform bench's
 * lake (12 months x 100 domains): a full build, the settling build, then ticks of 10 domains of
 * the current month, each followed by a transform whose steps (and models) are printed.
 *
 *   npx tsx bench/incremental-breakdown.ts [--per-domain-month 50] [--ticks 2] [--dir /tmp/x]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../pipeline/config/load-config.ts';
import { runTransform } from '../pipeline/transform/run-transform.ts';
import { FixedClock } from '../pipeline/util/clock.ts';
import { createLogger } from '../pipeline/util/logger.ts';
import { domainName, historyLake, tickDomains } from './lib/history-lake.ts';

const { values } = parseArgs({
  options: { 'per-domain-month': { type: 'string', default: '50' }, ticks: { type: 'string', default: '2' }, dir: { type: 'string' } },
});
const perDomainMonth = Number(values['per-domain-month']);
const MONTHS = Array.from({ length: 12 }, (_, i) => (i === 0 ? '2025-12' : `2026-${String(i).padStart(2, '0')}`));
const work = values.dir ?? (await mkdtemp(join(os.tmpdir(), 'cdrpipe-incremental-breakdown-')));
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  },
});
try {
  const dataDir = join(work, 'data');
  await historyLake(join(os.tmpdir(), 'cdrpipe-bench-cache'), dataDir, { months: MONTHS, domains: 100, perDomainMonth }, (l) =>
    console.error(l),
  );
  const config = await loadConfig();
  const clock = new FixedClock(new Date('2026-11-20T12:00:00Z'));
  const run = async (label: string, full: boolean) => {
    lines.length = 0;
    const t0 = performance.now();
    const s = await runTransform({ dataDir, config, logger: createLogger({ level: 'debug', destination: sink }), clock, full });
    const ms = performance.now() - t0;
    const steps = lines.find((l) => l.msg === 'transform steps')?.steps;
    const models = lines.find((l) => l.msg === 'model times')?.modelMs;
    console.log(`${label}: ${ms.toFixed(0)} ms, ${s.build.mode}, ${s.build.recomputed}/${s.build.domainMonths} recomputed`);
    console.log(`  steps ${JSON.stringify(steps)}`);
    console.log(`  models ${JSON.stringify(models)}`);
    const tests = (lines.find((l) => l.msg === 'test times')?.testMs ?? {}) as Record<string, number>;
    const top = Object.entries(tests).sort((a, b) => b[1] - a[1]);
    const total = top.reduce((a, [, ms]) => a + ms, 0);
    console.log(`  tests ${total} ms: ${JSON.stringify(Object.fromEntries(top.slice(0, 12)))}`);
  };
  await run('full', true);
  await run('settle', false);
  for (let t = 0; t < Number(values.ticks); t++) {
    await tickDomains(
      join(work, 'data'),
      '2026-11',
      Array.from({ length: 10 }, (_, i) => domainName((t * 37 + i * 9) % 100)),
      20,
      `tick${t}`,
    );
    await run(`tick ${t + 1}`, false);
  }
  await run('full again', true);
} finally {
  if (!values.dir) await rm(work, { recursive: true, force: true });
}
