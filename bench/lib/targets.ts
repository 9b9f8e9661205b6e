import type { BenchRow, Target } from './types.ts';
import { round } from './stats.ts';

/** Whether a ratio meets its target. */
export function meets(ratio: number, target: Target): boolean {
  return target.strict ? ratio < target.limit : ratio <= target.limit;
}

export function describeTarget(target: Target, unit = ''): string {
  return `${target.strict ? '<' : '<='} ${target.limit}${unit}`;
}

/** A figure without a target (throughputs, sizes, absolute times). */
export function info(scenario: string, name: string, value: number, unit: string, note?: string): BenchRow {
  return { scenario, name, value: round(value), unit, ratio: null, target: null, pass: null, ...(note ? { note } : {}) };
}

/** A side-by-side ratio checked against its target; value and ratio are the same number. */
export function ratioRow(scenario: string, name: string, ratio: number, target: Target, note?: string): BenchRow {
  return {
    scenario,
    name,
    value: round(ratio),
    unit: 'x',
    ratio: round(ratio),
    target: describeTarget(target),
    pass: meets(ratio, target),
    ...(note ? { note } : {}),
  };
}

/** An absolute figure checked against a limit: ratio = value / limit, target stated in the unit. */
export function limitRow(
  scenario: string,
  name: string,
  value: number,
  unit: string,
  limit: number,
  strict: boolean,
  note?: string,
): BenchRow {
  const ratio = value / limit;
  return {
    scenario,
    name,
    value: round(value),
    unit,
    ratio: round(ratio),
    target: `${strict ? '<' : '<='} ${limit} ${unit}`,
    pass: strict ? value < limit : value <= limit,
    ...(note ? { note } : {}),
  };
}

/** An absolute figure that must reach a floor (a throughput): ratio = floor / value, so <= 1 passes. */
export function floorRow(scenario: string, name: string, value: number, unit: string, floor: number, note?: string): BenchRow {
  return {
    scenario,
    name,
    value: round(value),
    unit,
    ratio: round(floor / value),
    target: `>= ${floor} ${unit}`,
    pass: value >= floor,
    ...(note ? { note } : {}),
  };
}

/** A pass/fail check that is not a number (e.g. lake rows equal ground truth). */
export function checkRow(scenario: string, name: string, ok: boolean, note: string): BenchRow {
  return { scenario, name, value: ok ? 1 : 0, unit: 'bool', ratio: null, target: '= 1', pass: ok, note };
}

/** The row a scenario leaves when it could not measure. */
export function skippedRow(scenario: string, reason: string): BenchRow {
  return { scenario, name: '(not measured)', value: null, unit: '', ratio: null, target: null, pass: null, note: `skipped: ${reason}` };
}

export function failedRow(scenario: string, reason: string): BenchRow {
  return { scenario, name: '(failed)', value: null, unit: '', ratio: null, target: null, pass: false, note: `failed: ${reason}` };
}
