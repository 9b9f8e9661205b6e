/** The human-readable end-of-run summary the CLI prints. */
import { pathToFileURL } from 'node:url';
import type { ReportRunSummary } from './run-reports.ts';

export function formatReportSummary(s: ReportRunSummary): string {
  const lines: string[] = [];
  lines.push(`reports for ${s.month} (${s.mode}): ${s.reports.length} rendered, ${s.rows} billed call rows`);
  for (const r of s.reports) {
    const what = r.report === 'billing-summary' ? 'billing summary' : r.domain;
    const size = `${(r.htmlBytes / 1024).toFixed(1)} KB${r.clipped ? ' (OVER 102 KB: Gmail clips it)' : ''}`;
    lines.push(
      `  ${what}: ${r.empty ? 'no calls' : `${r.calls} calls, ${r.chargeDisplay}`}; html ${size}; ${pathToFileURL(r.files.html).href}`,
    );
  }
  for (const f of s.renderFailures) lines.push(`  FAILED to render ${f.domain}: ${f.error}`);
  for (const r of s.droppedRecipients)
    lines.push(`  recipient left out for ${JSON.stringify(r.domain)}: ${r.reason} (an anomaly in cdrpipe status)`);
  if (s.noRecipients.length > 0) lines.push(`  no recipients configured (not sent): ${s.noRecipients.join(', ')}`);
  if (s.failedDataTests.length > 0) lines.push(`  warehouse data tests failed (sending refused): ${s.failedDataTests.join(', ')}`);
  const d = s.delivery;
  if (d) {
    lines.push(
      `delivery via ${d.transport}: ${d.sent} sent, ${d.skipped} skipped (already sent), ${d.maybeSent} maybe sent, ${d.failed} failed`,
    );
    for (const o of d.outcomes) {
      if (o.outcome === 'failed' || o.outcome === 'maybe-sent')
        lines.push(`  ${o.outcome.toUpperCase()} ${o.report} ${o.domain} -> ${o.recipient}: ${o.reason ?? ''}`);
    }
  } else if (s.mode !== 'send') {
    lines.push(s.mode === 'dry-run' ? 'dry run: nothing sent' : 'not sent (add --send to email them)');
  }
  return lines.join('\n') + '\n';
}
