/** How an alert is shown: the contract's JSON line, the terminal table, the email, the webhook bodies. */
import type { StoredAlert } from './alert-store.ts';

/** The contract's JSON object for one alert (`cdrpipe alerts --json`, backtest --json). */
export interface AlertJson {
  id: string;
  rule: string;
  domain: string;
  window_start: string;
  window_end: string;
  severity: string;
  calls: number;
  amount: string | null;
  message: string;
}

type Shown = Pick<
  StoredAlert,
  'id' | 'rule' | 'domain' | 'key' | 'windowStart' | 'windowEnd' | 'severity' | 'calls' | 'amount' | 'message'
>;

export function alertJson(a: Shown): AlertJson {
  return {
    id: a.id,
    rule: a.rule,
    domain: a.domain,
    window_start: a.windowStart.toISOString(),
    window_end: a.windowEnd.toISOString(),
    severity: a.severity,
    calls: a.calls,
    amount: a.amount,
    message: a.message,
  };
}

/** "2026-11-28 02:00–03:00Z" (one day) or both instants in full. */
export function windowLabel(start: Date, end: Date): string {
  const s = start.toISOString().slice(0, 16).replace('T', ' ');
  const e = end.toISOString().slice(0, 16).replace('T', ' ');
  return s.slice(0, 10) === e.slice(0, 10) ? `${s}–${e.slice(11)}Z` : `${s}Z–${e}Z`;
}

function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The terminal table of `cdrpipe alerts` (and backtest), one alert per line, message last. */
export function formatAlertTable(
  alerts: readonly (Shown & { ackedAt?: Date | null; level?: number })[],
  opts: { status: boolean },
): string {
  if (alerts.length === 0) return '';
  const head = [
    'id',
    ...(opts.status ? ['status'] : []),
    'severity',
    'rule',
    'domain',
    'key',
    'window (UTC)',
    'calls',
    'amount',
    'message',
  ];
  const rows = alerts.map((a) => [
    a.id,
    ...(opts.status ? [a.ackedAt ? 'acked' : a.level ? `open ×${2 ** a.level}` : 'open'] : []),
    a.severity,
    a.rule,
    a.domain,
    a.key || '-',
    windowLabel(a.windowStart, a.windowEnd),
    String(a.calls),
    a.amount ?? '-',
    a.message,
  ]);
  return table([head, ...rows]).join('\n') + '\n';
}

/** The idempotency key of one notification: the alert id, and the escalation level after a dot. */
export function idempotencyKeyOf(a: Pick<StoredAlert, 'id'>, level: number): string {
  return `${a.id}.${level}`;
}

/** The webhook's JSON body: the contract's fields plus level, key, estimated, evidence and times. */
export function webhookJsonBody(a: StoredAlert, level: number): string {
  return JSON.stringify({
    ...alertJson(a),
    key: a.key,
    level,
    escalated: level > 0,
    estimated: a.estimated,
    evidence: a.evidence,
    raised_at: a.raisedAt.toISOString(),
    idempotency_key: idempotencyKeyOf(a, level),
  });
}

/** One line headline, shared by mail subjects and Slack. */
export function alertHeadline(a: StoredAlert, level: number): string {
  const what = `${a.rule}${a.key ? ` ${a.key}` : ''}`;
  return `${a.severity.toUpperCase()} ${a.domain}: ${what}${level > 0 ? ` (escalated: ×${2 ** level} since first notice)` : ''}`;
}

/** A Slack-compatible body (`text`, mrkdwn) for incoming-webhook style endpoints. */
export function webhookSlackBody(a: StoredAlert, level: number): string {
  const amount = a.amount !== null ? `, amount ${a.amount}${a.estimated ? ' (partly estimated)' : ''}` : '';
  const text = [
    `*${alertHeadline(a, level)}*`,
    a.message,
    `${windowLabel(a.windowStart, a.windowEnd)}, ${a.calls} calls${amount} — id \`${a.id}\` (\`cdrpipe alerts ack ${a.id}\`)`,
  ].join('\n');
  return JSON.stringify({ text });
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The alert email's subject and bodies. */
export function alertMail(a: StoredAlert, level: number, resellerName: string): { subject: string; text: string; html: string } {
  const lines: [string, string][] = [
    ['domain', a.domain],
    ['rule', a.rule],
    ...(a.key ? ([['key', a.key]] as [string, string][]) : []),
    ['severity', a.severity],
    ['window', `${a.windowStart.toISOString()} – ${a.windowEnd.toISOString()}`],
    ['calls', String(a.calls)],
    ...(a.amount !== null
      ? ([['amount', `${a.amount}${a.estimated ? ' (partly estimated from fallback rates)' : ''}`]] as [string, string][])
      : []),
    ['alert id', a.id],
    ['raised', a.raisedAt.toISOString()],
  ];
  const evidence = JSON.stringify(a.evidence, null, 2);
  const escalation =
    level > 0 ? `This alert was raised before; it has grown to ${2 ** level}× what was first notified, so it is sent again.` : undefined;
  const text = [
    a.message,
    '',
    ...(escalation ? [escalation, ''] : []),
    ...lines.map(([k, v]) => `${(k + ':').padEnd(10)} ${v}`),
    '',
    'evidence:',
    evidence,
    '',
    `Acknowledge: cdrpipe alerts ack ${a.id}`,
    `All open alerts: cdrpipe alerts --open`,
    '',
    `— cdrpipe for ${resellerName}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    `<p><strong>${htmlEscape(a.message)}</strong></p>`,
    ...(escalation ? [`<p>${htmlEscape(escalation)}</p>`] : []),
    '<table>',
    ...lines.map(([k, v]) => `<tr><td style="padding-right: 1em; color: #555">${htmlEscape(k)}</td><td>${htmlEscape(v)}</td></tr>`),
    '</table>',
    `<pre>${htmlEscape(evidence)}</pre>`,
    `<p>Acknowledge: <code>cdrpipe alerts ack ${htmlEscape(a.id)}</code></p>`,
    `<p style="color: #555">— cdrpipe for ${htmlEscape(resellerName)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: `[cdrpipe] ${alertHeadline(a, level)}`, text, html };
}
