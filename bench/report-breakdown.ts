/**
 * Where the report stage's time goes: `runReports --send --force` on the `reports` scenario's
 * warehouse into a loopback SMTP server (as the scenario runs it), with the stage's own timer on
 * each phase (templates, data tests, queries, render, files, send-log claim, SMTP, send-log
 * record, ...). Prints, per phase, the median over the measured runs of its wall time, its share
 * of the run, and the process's CPU time meanwhile (every thread: DuckDB's and the libuv pool's
 * too), then reports per second.
 *
 * The SMTP server runs in a process of its own, as in the scenario; `--sink inline` runs it in
 * this process instead, and `--sink both` alternates the two run by run and prints both rates.
 *
 *   npx tsx bench/report-breakdown.ts [--domains 100] [--runs 3] [--sink process|inline|both]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runReports } from '../pipeline/report/run-reports.ts';
import { silentLogger } from '../pipeline/util/logger.ts';
import { PhaseTimes } from '../pipeline/util/phase-times.ts';
import { BENCH_MONTH } from './lib/extraction-setup.ts';
import { buildReportsWarehouse } from './lib/reports-setup.ts';
import { startCountingSmtp, startSmtpSinkProcess } from './lib/smtp-sink.ts';
import { median } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    domains: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    sink: { type: 'string', default: 'process' },
  },
});
const domains = Number(values.domains);
const runs = Math.max(1, Number(values.runs));
if (!['process', 'inline', 'both'].includes(values.sink!)) throw new Error(`--sink: expected process, inline or both, got ${values.sink}`);

const work = await mkdtemp(join(os.tmpdir(), 'cdrpipe-report-breakdown-'));
const sinks = {
  process: values.sink === 'inline' ? undefined : await startSmtpSinkProcess(),
  inline: values.sink === 'process' ? undefined : await startCountingSmtp(),
};
const byVariant = new Map<string, { rate: number[]; cpuMs: number[]; busyMs: number[] }>();
try {
  const { dataDir, config, clock } = await buildReportsWarehouse({
    cacheDir: join(os.tmpdir(), 'cdrpipe-bench-cache'),
    workDir: work,
    domains,
    log: (l) => console.error(l),
  });
  const walls: number[] = [];
  const cpus: number[] = [];
  const byPhase = new Map<string, { ms: number[]; cpuMs: number[] }>();
  let reports = 0;
  // One warm-up run (JIT, first juice calls, first DuckDB opens), then the measured runs.
  for (let run = -1; run < runs; run++) {
    // With `both`, the two sinks alternate run by run (same process, same warehouse).
    const sinkName = values.sink === 'both' ? (run % 2 === 0 ? 'process' : 'inline') : values.sink!;
    const variant = `sink ${sinkName}`;
    const env = { smtpUrl: (sinkName === 'process' ? sinks.process : sinks.inline)!.url, mailFrom: 'reports@bench.example' };
    const times = new PhaseTimes();
    const mark = times.start();
    const elu = performance.eventLoopUtilization();
    const s = await runReports({
      dataDir,
      config,
      env,
      month: BENCH_MONTH,
      send: true,
      force: true,
      logger: silentLogger(),
      clock,
      times,
    });
    times.end('(whole run)', mark);
    // The stage's own thread: time its event loop was busy (not waiting for I/O or other threads).
    const busyMs = performance.eventLoopUtilization(elu).active;
    if (s.failed || s.delivery?.sent !== s.reports.length) throw new Error(`run ${run + 1} did not render and send every report`);
    const whole = times.phases.get('(whole run)')!;
    console.error(
      `${run < 0 ? 'warm-up' : `run ${run + 1}/${runs}`} (${variant}): ${s.reports.length} reports in ${whole.ms.toFixed(0)} ms, ` +
        `process CPU ${whole.cpuMs.toFixed(0)} ms, main thread busy ${busyMs.toFixed(0)} ms`,
    );
    if (run < 0) continue;
    reports = s.reports.filter((r) => r.report === 'monthly-usage').length;
    const v = byVariant.get(variant) ?? byVariant.set(variant, { rate: [], cpuMs: [], busyMs: [] }).get(variant)!;
    v.rate.push(reports / (whole.ms / 1000));
    v.cpuMs.push(whole.cpuMs);
    v.busyMs.push(busyMs);
    walls.push(whole.ms);
    cpus.push(whole.cpuMs);
    for (const [phase, t] of times.phases) {
      if (phase === '(whole run)') continue;
      const p = byPhase.get(phase) ?? byPhase.set(phase, { ms: [], cpuMs: [] }).get(phase)!;
      p.ms.push(t.ms);
      p.cpuMs.push(t.cpuMs);
    }
  }
  const wall = median(walls);
  console.log(
    `| phase (${reports} customer reports + billing summary, median of ${runs} runs) | wall ms | share | CPU ms | wall ms per report |`,
  );
  console.log('|---|---|---|---|---|');
  let covered = 0;
  for (const [phase, t] of byPhase) {
    const ms = median(t.ms);
    covered += ms;
    console.log(
      `| ${phase} | ${ms.toFixed(1)} | ${((100 * ms) / wall).toFixed(1)}% | ${median(t.cpuMs).toFixed(1)} | ${(ms / reports).toFixed(2)} |`,
    );
  }
  console.log(`| (outside the phases) | ${(wall - covered).toFixed(1)} | ${((100 * (wall - covered)) / wall).toFixed(1)}% | | |`);
  console.log(`| whole run | ${wall.toFixed(1)} | 100% | ${median(cpus).toFixed(1)} | ${(wall / reports).toFixed(2)} |`);
  console.log(`\n${(reports / (wall / 1000)).toFixed(1)} customer reports per second (load average ${os.loadavg()[0]!.toFixed(1)})`);
  for (const [name, b] of byVariant) {
    console.log(
      `${name}: median ${median(b.rate).toFixed(1)} reports/s over ${b.rate.length} runs (${b.rate.map((r) => r.toFixed(1)).join(', ')}); ` +
        `median process CPU ${median(b.cpuMs).toFixed(0)} ms, main thread busy ${median(b.busyMs).toFixed(0)} ms per run`,
    );
  }
} finally {
  await sinks.process?.close();
  await sinks.inline?.close();
  await rm(work, { recursive: true, force: true });
}
