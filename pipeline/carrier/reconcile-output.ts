/** How `carrier reconcile` prints: the contract's JSON object, or a table for a terminal. */
import type { CarrierReconcileJson, CarrierReconcileResult } from './reconcile-types.ts';

/** The contract's `--json` object: month and one line per carrier, money as decimal strings. */
export function carrierReconcileJson(result: CarrierReconcileResult): CarrierReconcileJson {
  return { month: result.month, carriers: result.lines };
}

const HEAD = ['carrier', 'records', 'matched', 'duration', 'cost', 'phantom', 'missing', 'carrier cost', 'expected', 'disputed'];

/** A fixed-width table per carrier, the dispute files, and the verdict. */
export function formatCarrierReconcile(result: CarrierReconcileResult): string {
  if (result.lines.length === 0)
    return `carrier reconcile ${result.month}: no carrier records for this month (import a file with cdrpipe carrier import)\n`;
  const rows = result.lines.map((l) => [
    l.carrier,
    String(l.records),
    String(l.matched),
    String(l.duration_dispute),
    String(l.cost_dispute),
    String(l.carrier_only),
    String(l.pbx_only),
    l.carrier_cost,
    l.expected_cost,
    l.disputed_amount,
  ]);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [`carrier reconcile ${result.month} (UTC month)`, line(HEAD), ...rows.map(line), ''];
  out.push('duration/cost: disputes; phantom: billed, no call of ours; missing: our call, not on the file');
  for (const l of result.lines) out.push(`dispute file (${l.carrier}): ${result.disputeFiles[l.carrier]}`);
  out.push(
    result.ok
      ? 'within the dispute thresholds'
      : `over the dispute thresholds: ${result.over.map((o) => `${o.carrier} (${o.detail})`).join('; ')}`,
  );
  return out.join('\n') + '\n';
}
