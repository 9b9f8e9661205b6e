import { randomUUID } from 'node:crypto';
import type { Db } from '../db/duckdb.ts';
import { redact } from '../util/errors.ts';

/**
 * Completeness problems found by ingest. count-mismatch: the list disagreed with the count after one
 * re-fetch; write-mismatch: the lake holds a different number of rows than were fetched;
 * implausible-count: a count no window can hold (not a whole number, or halves that add up to more
 * than the window); not-listed: stored rows the API did not list again (kept; `ingest --prune`
 * removes them once the API confirms).
 */
export const COMPLETENESS_KINDS = ['count-mismatch', 'write-mismatch', 'implausible-count', 'not-listed'] as const;
/**
 * `recipient-dropped`: a configured report recipient gave a domain no address (e.g. its name is
 * not a DNS host name). `unknown-domain`: the reseller-wide CDR list sent records whose `domain`
 * names no domain of the run; they were quarantined to lake/rejects, not stored.
 */
export const ANOMALY_KINDS = [...COMPLETENESS_KINDS, 'recipient-dropped', 'unknown-domain'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** SQL list of the completeness kinds, for `kind IN (...)`: only these speak to whether the lake is complete. */
export const COMPLETENESS_SQL = COMPLETENESS_KINDS.map((k) => `'${k}'`).join(', ');

/** A problem recorded for a domain and a time window: completeness (ingest) or a dropped recipient (reports). */
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
      detail: a.detail === null ? null : redact(a.detail),
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
     WHERE resolved_at IS NULL AND domain = $domain AND kind IN (${COMPLETENESS_SQL})
       AND window_start >= $s::TIMESTAMPTZ AND window_end <= $e::TIMESTAMPTZ`,
    { at: at.toISOString(), domain, s: start.toISOString(), e: end.toISOString() },
  );
}

/** Domains with at least one unresolved completeness anomaly. */
export async function openAnomalyDomainsOf(db: Db): Promise<Set<string>> {
  const rows = await db.all<{ domain: string }>(
    `SELECT DISTINCT domain FROM anomalies WHERE resolved_at IS NULL AND kind IN (${COMPLETENESS_SQL})`,
  );
  return new Set(rows.map((r) => r.domain));
}
