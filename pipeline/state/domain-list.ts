import type { Db } from '../db/duckdb.ts';

/**
 * The API's domain list as the last ingest that asked for it got it: an incremental tick reads
 * its domains from here instead of paging `GET /domains` every 15 minutes (ingest decides when
 * the list is old enough to ask again). One row; the names in the API's order.
 */
export interface CachedDomainList {
  domains: string[];
  fetchedAt: Date;
}

/** The cached list, or undefined when no run stored one (or it was dropped). */
export async function readDomainList(db: Db): Promise<CachedDomainList | undefined> {
  const rows = await db.all<{ domains: string; fetched_ms: string | number }>(
    `SELECT domains::VARCHAR AS domains, epoch_ms(fetched_at) AS fetched_ms FROM domain_list WHERE list = 'api'`,
  );
  const row = rows[0];
  if (!row) return undefined;
  const parsed = JSON.parse(row.domains) as unknown;
  // A list this version cannot read is as good as none: the run asks the API again.
  if (!Array.isArray(parsed) || !parsed.every((d): d is string => typeof d === 'string')) return undefined;
  return { domains: parsed, fetchedAt: new Date(Number(row.fetched_ms)) };
}

/** Replaces the cached list with what the API just answered. */
export async function writeDomainList(db: Db, domains: readonly string[], fetchedAt: Date): Promise<void> {
  await db.run(
    `INSERT INTO domain_list (list, domains, fetched_at) VALUES ('api', $domains::JSON, $at::TIMESTAMPTZ)
     ON CONFLICT (list) DO UPDATE SET domains = excluded.domains, fetched_at = excluded.fetched_at`,
    { domains: JSON.stringify(domains), at: fetchedAt.toISOString() },
  );
}

/** Drops the cached list, so the next run asks the API (after a run whose domains did not answer as listed). */
export async function dropDomainList(db: Db): Promise<void> {
  await db.run(`DELETE FROM domain_list WHERE list = 'api'`);
}
