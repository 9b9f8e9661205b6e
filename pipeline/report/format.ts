/** Display formatting for report figures: integer arithmetic only, so every shown digit is exact. */
import { formatScaled, groupThousands, parseDecimal } from '../util/money.ts';

type IntLike = number | bigint | string;

function big(v: IntLike): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`expected an integer, got ${v}`);
    return BigInt(v);
  }
  return BigInt(v.trim() === '' ? '0' : v);
}

/** Integer division rounding half away from zero. */
function divRound(n: bigint, d: bigint): bigint {
  const neg = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (an * 2n + ad) / (ad * 2n);
  return neg ? -q : q;
}

/** 1234567 -> "1,234,567". */
export function formatInt(v: IntLike): string {
  const b = big(v);
  return (b < 0n ? '-' : '') + groupThousands((b < 0n ? -b : b).toString());
}

/** Seconds as minutes with one decimal, rounded half-up: 90 -> "1.5", 3_600_000 -> "60,000.0". */
export function formatMinutes(seconds: IntLike): string {
  return formatScaled(divRound(big(seconds) * 10n, 60n), 1, { grouping: true });
}

/** Seconds as m:ss, or h:mm:ss from an hour on. */
export function formatDuration(seconds: IntLike): string {
  const s = big(seconds);
  const h = s / 3600n;
  const m = (s % 3600n) / 60n;
  const sec = (s % 60n).toString().padStart(2, '0');
  return h > 0n ? `${h}:${m.toString().padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A 0..1 ratio written as decimal text ("0.8125") as a percentage with one decimal ("81.3%"). */
export function formatRatioPercent(ratio: string): string {
  return `${formatScaled(parseDecimal(ratio, 3), 1)}%`;
}

/** part / whole as a percentage with one decimal; "0.0%" when whole is 0. */
export function formatShare(part: IntLike, whole: IntLike): string {
  const w = big(whole);
  if (w === 0n) return '0.0%';
  return `${formatScaled(divRound(big(part) * 1000n, w), 1)}%`;
}

export const TRENDS = ['up', 'down', 'flat', 'new', 'none'] as const;
export type Trend = (typeof TRENDS)[number];

/** Month-over-month change of a count or a scaled amount. */
export interface Change {
  trend: Trend;
  /** "+12.5%", "-3.0%", "0.0%", "new" or "–" (nothing either month). */
  text: string;
}

export function percentChange(current: IntLike, previous: IntLike): Change {
  const cur = big(current);
  const prev = big(previous);
  if (prev === 0n) return cur === 0n ? { trend: 'none', text: '–' } : { trend: 'new', text: 'new' };
  const tenths = divRound((cur - prev) * 1000n, prev);
  const text = formatScaled(tenths, 1);
  if (tenths === 0n) return { trend: 'flat', text: '0.0%' };
  return tenths > 0n ? { trend: 'up', text: `+${text}%` } : { trend: 'down', text: `${text}%` };
}
