import type { BenchContext } from './types.ts';

/**
 * A scenario's size: the full size the targets are judged at, and the reduced default
 * `npm run bench` uses so the whole run stays within minutes on 2 cores. `--full` picks the full
 * size, `--scale` multiplies either.
 */
export interface SizeSpec {
  full: number;
  reduced: number;
}

export function sizeOf(ctx: Pick<BenchContext, 'full' | 'scale'>, spec: SizeSpec): number {
  return Math.max(1, Math.round((ctx.full ? spec.full : spec.reduced) * ctx.scale));
}

/** Domains for a month of `rows` CDRs at the full sizes' density (200 domains per million), at least `min`. */
export function domainsFor(rows: number, min = 10): number {
  return Math.max(min, Math.round((200 * rows) / 1_000_000));
}

/** A note for the results saying the size was reduced from the full size (empty when it was not). */
export function reducedNote(ctx: Pick<BenchContext, 'full'>, spec: SizeSpec, what = 'CDRs'): string {
  return ctx.full ? '' : `reduced default (full: ${spec.full.toLocaleString('en-US')} ${what}; --full restores)`;
}

/** Joins note parts with "; ", leaving out empty ones. */
export function notes(...parts: (string | undefined | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join('; ');
}
