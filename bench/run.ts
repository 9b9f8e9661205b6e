/**
 * `npm run bench [-- --scale N] [-- --only NAME] [-- --runs N]`: runs the benchmark scenarios
 * one after another, prints a table and writes bench/results.json. Separate from `npm test`:
 * nothing here asserts a timing in the test suite.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_USAGE, parseBenchArgs } from './lib/args.ts';
import { machineInfo } from './lib/machine.ts';
import { StageMissing } from './lib/stage.ts';
import { formatTable } from './lib/table.ts';
import { failedRow, skippedRow } from './lib/targets.ts';
import type { BenchReport, BenchRow } from './lib/types.ts';
import { SCENARIOS } from './scenarios/index.ts';

const benchDir = fileURLToPath(new URL('.', import.meta.url));

async function main(argv: string[]): Promise<number> {
  const onlyOut = join(benchDir, 'results.only.json');
  const args = parseBenchArgs(argv, join(benchDir, 'results.json'));
  if (args.help) {
    process.stdout.write(`${BENCH_USAGE}\n\nscenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.title}`).join('\n')}\n`);
    return 0;
  }
  const unknown = args.only.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(', ')}: choose from ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  // A partial run must not overwrite the full table that the README quotes.
  const out = args.only.length > 0 && !argv.some((a) => a.startsWith('--out')) ? onlyOut : args.out;
  const selected = args.only.length > 0 ? SCENARIOS.filter((s) => args.only.includes(s.name)) : SCENARIOS;

  const startedAt = new Date();
  const machine = await machineInfo(startedAt);
  const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, node ${machine.node}, duckdb ${machine.duckdb}`);
  log(
    `${args.full ? 'full sizes' : 'reduced sizes'} x scale ${args.scale}, ${args.runs} runs per figure after a warm-up; scenarios: ${selected.map((s) => s.name).join(', ')}`,
  );

  const cacheDir = join(os.tmpdir(), 'cdrpipe-bench-cache');
  await mkdir(cacheDir, { recursive: true });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));

  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const scenario of selected) {
    const workDir = await mkdtemp(join(os.tmpdir(), `cdrpipe-bench-${scenario.name}-`));
    const t0 = performance.now();
    log(`${scenario.name}: ${scenario.title}`);
    try {
      const outcome = await scenario.run({
        scale: args.scale,
        full: args.full,
        runs: args.runs,
        workDir,
        cacheDir,
        log: (line) => log(`${scenario.name}: ${line}`),
        signal: controller.signal,
      });
      if (outcome.status === 'ok') {
        rows.push(...outcome.rows);
        notes.push(...(outcome.notes ?? []).map((n) => `${scenario.name}: ${n}`));
      } else {
        rows.push(skippedRow(scenario.name, outcome.reason));
      }
    } catch (err) {
      if (err instanceof StageMissing) {
        rows.push(skippedRow(scenario.name, err.message));
      } else {
        const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
        log(`${scenario.name} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
        rows.push(failedRow(scenario.name, message));
      }
    } finally {
      if (!args.keep) await rm(workDir, { recursive: true, force: true });
      else log(`${scenario.name}: kept ${workDir}`);
    }
    log(`${scenario.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (controller.signal.aborted) break;
  }

  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const report: BenchReport = {
    command,
    scale: args.scale,
    full: args.full,
    runs: args.runs,
    machine,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    results: rows,
    notes,
  };
  await writeFile(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, node ${machine.node}, duckdb ${machine.duckdb}\n` +
      `took ${((Date.parse(report.finishedAt) - startedAt.getTime()) / 1000).toFixed(0)} s; wrote ${relative(process.cwd(), out)}\n`,
  );
  const failed = rows.filter((r) => r.pass === false);
  if (failed.length > 0) process.stdout.write(`${failed.length} figure(s) missed their target or failed\n`);
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
