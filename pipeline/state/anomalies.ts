import { randomUUID } from 'node:crypto';
import type { Db } from '../db/duckdb.ts';

/**
 * count-mismatch: the list disagreed with the count after one re-fetch; write-mismatch: the lake
 * holds a different number of rows than were fetched; implausible-count: a count no window can
 * hold (not a whole number, or halves that add up to more than the window); not-listed: stored
 * rows the API did not list again (kept; `ingest --prune` removes them once the API confirms).
 */
export const ANOMALY_KINDS = ['count-mismatch', 'write-mismatch', 'implausible-count', 'not-listed'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** A completeness problem found by ingest: lake rows vs the API's count for a window. */
export interface Anomaly {
  domain: string;
  windowStart: Date;
  windowEnd: Date;
  kind: AnomalyKind;
  expected: number | null;
  got: number | null;
  detail: string | null;
}

export async function recordAnomaly(db: Db, a: Anomaly, at: Date): Promise<string> {
  const id = randomUUID();
  await db.run(
    `INSERT INTO anomalies (anomaly_id, domain, window_start, window_end, kind, expected, got, detail, detected_at)
     VALUES ($id, $domain, $ws::TIMESTAMPTZ, $we::TIMESTAMPTZ, $kind, $expected, $got, $detail, $at::TIMESTAMPTZ)`,
    {
      id,
      domain: a.domain,
      ws: a.windowStart.toISOString(),
      we: a.windowEnd.toISOString(),
      kind: a.kind,
      expected: a.expected,
      got: a.got,
      detail: a.detail,
      at: at.toISOString(),
    },
  );
  return id;
}

/**
 * A later run that stored exactly the expected rows for a window resolves the open anomalies
 * that lie inside it (the data caught up, e.g. through the lookback).
 */
export async function resolveAnomaliesWithin(db: Db, domain: string, start: Date, end: Date, at: Date): Promise<void> {
  await db.run(
    `UPDATE anomalies SET resolved_at = $at::TIMESTAMPTZ
     WHERE resolved_at IS NULL AND domain = $domain AND window_start >= $s::TIMESTAMPTZ AND window_end <= $e::TIMESTAMPTZ`,
    { at: at.toISOString(), domain, s: start.toISOString(), e: end.toISOString() },
  );
}

/** Domains with at least one unresolved anomaly. */
export async function openAnomalyDomainsOf(db: Db): Promise<Set<string>> {
  const rows = await db.all<{ domain: string }>(`SELECT DISTINCT domain FROM anomalies WHERE resolved_at IS NULL`);
  return new Set(rows.map((r) => r.domain));
}
