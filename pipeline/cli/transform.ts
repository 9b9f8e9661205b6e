import type { Command } from 'commander';
import { loadRuntime } from '../schedule/index.ts';
import { runTransform, type TransformSummary } from '../transform/index.ts';
import { EXIT, UsageError } from '../util/errors.ts';
import { isMonth } from '../util/month.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** How the build went: full (and why) or incremental (what was recomputed and why, which models were rebuilt in full). */
export function formatBuild(s: TransformSummary): string[] {
  const b = s.build;
  if (b.mode === 'full') return [`build: full (${b.fullReason ?? 'requested'}): ${b.domainMonths} domain-months computed`];
  const why = Object.entries(b.changes)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const lines = [
    `build: incremental: ${b.recomputed} of ${b.domainMonths} domain-months recomputed${why ? ` (${why})` : ''}, ${b.domainMonths - b.recomputed} kept`,
  ];
  const full = b.models.filter((m) => m.action === 'full');
  if (full.length > 0) lines.push(`  rebuilt in full: ${full.map((m) => `${m.name} (${m.reason})`).join(', ')}`);
  return lines;
}

/** Human summary: models, tests (failures with sample rows), months frozen. */
export function formatTransformSummary(s: TransformSummary): string {
  const lines: string[] = [];
  lines.push(`warehouse: ${s.warehouse}${s.lakeEmpty ? ' (lake is empty: models exist, with no rows)' : ''}`);
  lines.push(...formatBuild(s));
  lines.push(`models (${s.models.length}): ${s.models.map((m) => `${m.name}=${m.rows}`).join(', ')}`);
  const passed = s.tests.filter((t) => t.status === 'pass').length;
  lines.push(`data tests: ${passed}/${s.tests.length} passed${s.warnedTests.length ? `, warnings: ${s.warnedTests.join(', ')}` : ''}`);
  for (const t of s.tests.filter((x) => x.status !== 'pass')) {
    lines.push(`  ${t.status.toUpperCase()} ${t.name}: ${t.description}`);
    if (t.error) lines.push(`    could not run: ${t.error}`);
    else lines.push(`    ${t.failingRows} failing row(s), e.g.:`);
    for (const r of t.sample) lines.push(`      ${JSON.stringify(r)}`);
  }
  const frozen = s.ratedMonths.filter((m) => m.frozen).length;
  lines.push(`rated domain-months: ${s.ratedMonths.length} (${frozen} frozen, ${s.newlyFrozen} newly frozen)`);
  if (s.rerated)
    lines.push(
      `re-rated ${s.rerated.month} for ${s.rerated.domains === 'all' ? 'all domains' : s.rerated.domains.join(', ')}: released ${s.rerated.released} frozen month(s)`,
    );
  lines.push(s.status === 'ok' ? 'status: ok' : `status: FAILED (${s.failedTests.join(', ')}): reports will refuse to send until fixed`);
  return lines.join('\n') + '\n';
}

/** `cdrpipe transform [--rerate YYYY-MM [--domain D]...] [--json]` */
export function registerTransform(program: Command): void {
  program
    .command('transform')
    .description('(re)build warehouse.duckdb: SQL models over the lake, rating, data tests (exit 1 when a data test fails)')
    .option('--rerate <month>', 'release the frozen prices of this local month (YYYY-MM) and rate it with the current plans')
    .option('--domain <domain>', 'with --rerate: only this domain (repeatable)', collect, [] as string[])
    .option('--full', 'rebuild every model from the whole lake (default: recompute only the domain-months whose inputs changed)')
    .option('--json', 'print the summary as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .addHelpText(
      'after',
      `
Only the domain-months whose lake files, domain settings or plan changed (or that closed) since
the last build are recomputed; --full rebuilds everything. The result is the same either way.
Closed months are frozen on the plan version they were first rated with; a price change in the
config applies to open months only. To re-rate a closed month with today's plans:
  cdrpipe transform --rerate 2026-10
  cdrpipe transform --rerate 2026-10 --domain acme.pbx.example
`,
    )
    .action(async (opts: { rerate?: string; domain: string[]; full?: boolean; json?: boolean; config?: string }) => {
      if (opts.rerate !== undefined && !isMonth(opts.rerate))
        throw new UsageError(`--rerate ${JSON.stringify(opts.rerate)}: expected YYYY-MM, e.g. 2026-10`);
      if (opts.domain.length > 0 && opts.rerate === undefined) throw new UsageError('--domain only applies with --rerate YYYY-MM');
      const rt = await loadRuntime({ configPath: opts.config });
      const summary = await runTransform({
        dataDir: rt.dataDir,
        config: rt.config,
        logger: rt.logger,
        clock: rt.clock,
        full: opts.full === true,
        ...(opts.rerate ? { rerate: { month: opts.rerate, ...(opts.domain.length ? { domains: opts.domain } : {}) } } : {}),
      });
      process.stdout.write(opts.json ? JSON.stringify(summary, null, 2) + '\n' : formatTransformSummary(summary));
      if (summary.status !== 'ok') process.exitCode = EXIT.failure;
    });
}
