import type { BenchRow } from './types.ts';

function fmt(value: number | null): string {
  if (value === null) return '';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(value);
}

function passText(pass: boolean | null): string {
  return pass === null ? '' : pass ? 'pass' : 'FAIL';
}

/** The results as a Markdown table (readable in a terminal, pasteable into the README). */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['scenario', 'figure', 'value', 'unit', 'ratio', 'target', 'pass', 'note'];
  const body = rows.map((r) => [r.scenario, r.name, fmt(r.value), r.unit, fmt(r.ratio), r.target ?? '', passText(r.pass), r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
