import type { Command } from 'commander';
import { ackAlert, alertIdOf, alertJson, evaluateAlerts, formatAlertTable, listAlerts, normalizeAmount } from '../alerts/index.ts';
import { loadRuntime } from '../schedule/index.ts';
import { UsageError } from '../util/errors.ts';

/** An instant from the command line: an ISO date (UTC midnight) or an ISO date-time with a zone. */
function parseInstant(flag: string, text: string): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const d = new Date(dateOnly ? `${text}T00:00:00Z` : text);
  if ((!dateOnly && !withZone) || Number.isNaN(d.getTime())) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a date: use 2026-11-01 (UTC midnight) or 2026-11-01T06:00:00Z`);
  }
  return d;
}

/**
 * `cdrpipe alerts [--open] [--json]`, `alerts ack <id>`, `alerts backtest --from T --to T [--json]`.
 * Listing reads state.duckdb read-only (works on a read-only data directory); backtest writes nothing.
 */
export function registerAlerts(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('toll-fraud and spend alerts raised so far, newest first (ack, backtest: see their help)')
    .option('--open', 'only alerts not acknowledged')
    .option('--json', 'one JSON object per line: id, rule, domain, window_start, window_end, severity, calls, amount, message')
    .option('--limit <n>', 'at most this many (newest first)')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .action(async (opts: { open?: boolean; json?: boolean; limit?: string; config?: string }) => {
      const rt = await loadRuntime({ configPath: opts.config });
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
        throw new UsageError(`--limit must be a whole number ≥ 1, got ${opts.limit}`);
      const { alerts: rows, open } = await listAlerts(rt.dataDir, { open: opts.open, limit });
      if (opts.json) {
        process.stdout.write(rows.map((a) => JSON.stringify(alertJson(a)) + '\n').join(''));
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(opts.open ? 'no open alerts\n' : 'no alerts raised yet\n');
        return;
      }
      process.stdout.write(formatAlertTable(rows, { status: true }));
      process.stdout.write(`\n${rows.length} shown, ${open} open. Acknowledge one with: cdrpipe alerts ack <id>\n`);
    });

  alerts
    .command('ack')
    .argument('<id>', 'the alert id, as `cdrpipe alerts` shows it')
    .description('acknowledge an alert (it leaves the open list; an escalation re-opens it)')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      // --config may be read by `alerts` itself when given after the subcommand: take both.
      const opts = cmd.optsWithGlobals<{ config?: string }>();
      const rt = await loadRuntime({ configPath: opts.config });
      const r = await ackAlert(rt.dataDir, id.trim(), rt.clock.now());
      if (!r.found) throw new UsageError(`no alert with id ${JSON.stringify(id)} in ${rt.dataDir}: list them with cdrpipe alerts`);
      process.stdout.write(r.alreadyAcked ? `alert ${id} was already acknowledged\n` : `alert ${id} acknowledged\n`);
    });

  alerts
    .command('backtest')
    .description('run the alert rules over the lake for calls in [--from, --to) as live evaluation would; stores and sends nothing')
    .requiredOption('--from <T>', 'first instant, e.g. 2026-11-01 (UTC midnight) or 2026-11-01T06:00:00Z')
    .requiredOption('--to <T>', 'end instant (exclusive)')
    .option('--json', 'one JSON object per line, as `cdrpipe alerts --json`')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .action(async (_opts: unknown, cmd: Command) => {
      // `alerts` has --json and --config too, and takes them when they follow the subcommand.
      const opts = cmd.optsWithGlobals<{ from: string; to: string; json?: boolean; config?: string }>();
      const from = parseInstant('--from', opts.from);
      const to = parseInstant('--to', opts.to);
      if (to <= from) throw new UsageError(`--to (${opts.to}) must be after --from (${opts.from})`);
      const rt = await loadRuntime({ configPath: opts.config });
      const started = Date.now();
      const evaluation = await evaluateAlerts(
        { dataDir: rt.dataDir, config: rt.config, clock: rt.clock, logger: rt.logger },
        { kind: 'backtest', from, to },
      );
      const found = evaluation.findings
        .map((f) => ({ ...f, id: alertIdOf(f), amount: normalizeAmount(f.amount) }))
        .sort((a, b) => b.windowStart.getTime() - a.windowStart.getTime() || a.rule.localeCompare(b.rule) || a.id.localeCompare(b.id));
      if (opts.json) {
        process.stdout.write(found.map((a) => JSON.stringify(alertJson(a)) + '\n').join(''));
        return;
      }
      process.stdout.write(formatAlertTable(found, { status: false }));
      const byRule = new Map<string, number>();
      for (const f of found) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
      const rules = [...byRule].map(([r, n]) => `${r} ${n}`).join(', ');
      process.stdout.write(
        `${found.length ? '\n' : ''}backtest ${from.toISOString()} – ${to.toISOString()}: ${evaluation.callsEvaluated} calls, ` +
          `${found.length} alert(s)${rules ? ` (${rules})` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s; nothing stored or sent\n`,
      );
    });
}
