/**
 * Where a customer report's time goes, step by step, on the bench's reports lake: the warehouse
 * queries (one set per domain, as the report stage ran them, against one batched set per month),
 * the view model, Handlebars, CSS inlining, the CSV, the three files, the send log (claim and
 * record, one open of state.duckdb each) and one SMTP round trip to a loopback server.
 *
 *   npx tsx bench/report-breakdown.ts [--domains 100]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import juice from 'juice';
import { customerFor, loadConfig } from '../pipeline/config/load-config.ts';
import { Db } from '../pipeline/db/duckdb.ts';
import { claimSend, claimSends, markDelivered, recordAnswers } from '../pipeline/deliver/send-log.ts';
import { createSmtpTransport } from '../pipeline/deliver/smtp-transport.ts';
import { encodePartitionValue } from '../pipeline/lake/partition-path.ts';
import { warehousePath } from '../pipeline/lake/layout.ts';
import { buildCallsCsv } from '../pipeline/report/calls-csv.ts';
import { buildMonthlyUsageView } from '../pipeline/report/monthly-usage-view.ts';
import { ReportRenderer } from '../pipeline/report/render.ts';
import { queryCustomerMonth, queryCustomerMonths, queryDomains } from '../pipeline/report/warehouse-queries.ts';
import { runTransform } from '../pipeline/transform/run-transform.ts';
import { writeFileAtomic } from '../pipeline/util/atomic-file.ts';
import { FixedClock } from '../pipeline/util/clock.ts';
import { silentLogger } from '../pipeline/util/logger.ts';
import { BENCH_MONTH, BENCH_NOW, BENCH_SEED, MONTH_FROM, MONTH_TO } from './lib/extraction-setup.ts';
import { buildLakeFixture } from './lib/lake-fixture.ts';
import { ensurePageCorpus } from './lib/page-corpus.ts';
import { startCountingSmtp } from './lib/smtp-sink.ts';
import { percentile } from './lib/stats.ts';
import { REPORTS_DEFAULTS } from './scenarios/reports.ts';

const { values } = parseArgs({ options: { domains: { type: 'string', default: '100' } } });
const domains = Number(values.domains);

const steps = new Map<string, number[]>();
async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  (steps.get(name) ?? steps.set(name, []).get(name)!).push(performance.now() - t0);
  return out;
}

const work = await mkdtemp(join(os.tmpdir(), 'cdrpipe-report-breakdown-'));
try {
  const corpus = await ensurePageCorpus(
    {
      cacheDir: join(os.tmpdir(), 'cdrpipe-bench-cache'),
      seed: BENCH_SEED,
      domains,
      targetRows: domains * REPORTS_DEFAULTS.rowsPerDomain,
      from: MONTH_FROM,
      to: MONTH_TO,
      month: BENCH_MONTH,
    },
    (l) => console.error(l),
  );
  const dataDir = join(work, 'data');
  await buildLakeFixture(corpus, dataDir, BENCH_SEED);
  const config = await loadConfig();
  const clock = new FixedClock(BENCH_NOW);
  await runTransform({ dataDir, config, logger: silentLogger(), clock });
  const renderer = ReportRenderer.load();
  const smtp = await startCountingSmtp();
  const transport = createSmtpTransport(smtp.url, { messagesPerSecond: 100_000 });
  const pooled = createSmtpTransport(smtp.url, { maxConnections: 4 });
  const mails: Parameters<typeof transport.send>[0][] = [];
  const db = await Db.open(warehousePath(dataDir), { readOnly: true });
  try {
    const doms = await queryDomains(db);
    for (let r = 0; r < 3; r++) {
      await step(`queries, one set for all ${doms.length} domains (10 statements), per domain`, async () => {
        const t0 = performance.now();
        await queryCustomerMonths(
          db,
          doms.map((d) => d.domain),
          BENCH_MONTH,
        );
        return (performance.now() - t0) / doms.length;
      });
    }
    steps.set(
      `queries, one set for all ${doms.length} domains (10 statements), per domain`,
      (steps.get(`queries, one set for all ${doms.length} domains (10 statements), per domain`) ?? []).map((ms) => ms / doms.length),
    );
    for (const d of doms) {
      const rows = await step('queries, one set per domain (10 statements)', () => queryCustomerMonth(db, d.domain, BENCH_MONTH));
      const c = customerFor(config, d.domain);
      const view = await step('view model', () =>
        buildMonthlyUsageView(rows, {
          resellerName: config.reseller.name,
          customerName: c.displayName ?? (d.description || d.domain),
          timeZone: d.time_zone,
          currency: c.planDef.currency,
          decimals: c.planDef.decimals,
          generatedAt: BENCH_NOW.toISOString(),
        }),
      );
      const email = await step('render (Handlebars + CSS inlining)', () => renderer.render('monthly-usage', { ...view, footer: d.domain }));
      await step('CSS inlining alone (juice on the rendered HTML again)', () => juice(email.html, { removeStyleTags: true }));
      const csv = await step('calls.csv', () => buildCallsCsv(rows.billedCalls, { currency: view.currency, decimals: c.planDef.decimals }));
      const dir = join(work, 'out', encodePartitionValue(d.domain));
      await step('three files written atomically', async () => {
        await writeFileAtomic(join(dir, 'report.html'), email.html);
        await writeFileAtomic(join(dir, 'report.txt'), email.text);
        await writeFileAtomic(join(dir, 'calls.csv'), csv);
      });
      const key = { report: 'monthly-usage', domain: d.domain, month: BENCH_MONTH, recipient: `usage@${d.domain}` };
      await step('send log: claim (one open of state.duckdb)', () =>
        claimSend(dataDir, key, { force: true, transportKind: 'smtp' }, clock),
      );
      const sent = await step('SMTP: one message, pooled connection, loopback', () =>
        transport.send({
          from: { name: '', address: 'reports@bench.example' },
          to: { name: '', address: key.recipient },
          subject: email.subject,
          html: email.html,
          text: email.text,
          attachments: [{ filename: 'calls.csv', content: csv, contentType: 'text/csv; charset=utf-8' }],
        }),
      );
      await step('send log: record (one open of state.duckdb)', () =>
        markDelivered(dataDir, key, { status: 'confirmed', messageId: sent.messageId, response: sent.response }, clock),
      );
      mails.push({
        from: { name: '', address: 'reports@bench.example' },
        to: { name: '', address: key.recipient },
        subject: email.subject,
        html: email.html,
        text: email.text,
        attachments: [{ filename: 'calls.csv', content: csv, contentType: 'text/csv; charset=utf-8' }],
      });
    }
    // The batched forms: one open of state.duckdb per batch, messages over the pool side by side.
    const keys = doms.map((d) => ({ report: 'monthly-usage', domain: d.domain, month: BENCH_MONTH, recipient: `usage@${d.domain}` }));
    const per = (ms: number) => ms / keys.length;
    const t0 = performance.now();
    await claimSends(dataDir, keys, { force: true, transportKind: 'smtp' }, clock);
    steps.set(`send log: claim ${keys.length} in one open, per message`, [per(performance.now() - t0)]);
    const t1 = performance.now();
    await Promise.all(mails.map((m) => pooled.send(m)));
    steps.set(`SMTP: ${mails.length} messages over 4 pooled connections (no rate limit), per message`, [per(performance.now() - t1)]);
    const t2 = performance.now();
    await recordAnswers(
      dataDir,
      keys.map((key) => ({ key, status: 'confirmed' as const, messageId: 'm', response: '250 OK' })),
      clock,
    );
    steps.set(`send log: record ${keys.length} in one open, per message`, [per(performance.now() - t2)]);
  } finally {
    db.close();
    await transport.close();
    await pooled.close();
    await smtp.close();
  }
  console.log(`| step (${domains} domains, one report at a time) | mean ms | p50 ms | p95 ms |`);
  console.log('|---|---|---|---|');
  for (const [name, ms] of steps) {
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    console.log(`| ${name} | ${mean.toFixed(2)} | ${percentile(ms, 50).toFixed(2)} | ${percentile(ms, 95).toFixed(2)} |`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
