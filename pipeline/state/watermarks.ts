import type { Db } from '../db/duckdb.ts';

/**
 * Per-domain ingest watermarks: every CDR starting before a domain's watermark is durably in the
 * lake. Callers open state.duckdb with `withState` for each read or write and close it again.
 */
export async function readWatermarks(db: Db): Promise<Map<string, Date>> {
  const rows = await db.all<{ domain: string; epoch_ms: string | number }>(
    `SELECT domain, epoch_ms(watermark) AS epoch_ms FROM watermarks`,
  );
  return new Map(rows.map((r) => [r.domain, new Date(Number(r.epoch_ms))]));
}

/** Moves a domain's watermark forward (never backward: an older value is ignored). */
export async function advanceWatermarkRow(db: Db, domain: string, watermark: Date, at: Date): Promise<void> {
  await db.run(
    `INSERT INTO watermarks (domain, watermark, updated_at) VALUES ($domain, $wm::TIMESTAMPTZ, $at::TIMESTAMPTZ)
     ON CONFLICT (domain) DO UPDATE SET watermark = greatest(watermarks.watermark, excluded.watermark), updated_at = excluded.updated_at`,
    { domain, wm: watermark.toISOString(), at: at.toISOString() },
  );
}

/**
 * Moves several domains' watermarks forward in one statement (one commit: a tick over thousands
 * of domains does not pay a commit per domain). Same rule as advanceWatermarkRow.
 */
export async function advanceWatermarkRows(db: Db, rows: readonly { domain: string; watermark: Date }[], at: Date): Promise<void> {
  const CHUNK = 1_000;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const params: Record<string, string> = { at: at.toISOString() };
    const values = chunk.map((r, k) => {
      params[`d${k}`] = r.domain;
      params[`w${k}`] = r.watermark.toISOString();
      return `($d${k}, $w${k}::TIMESTAMPTZ, $at::TIMESTAMPTZ)`;
    });
    await db.run(
      `INSERT INTO watermarks (domain, watermark, updated_at) VALUES ${values.join(', ')}
       ON CONFLICT (domain) DO UPDATE SET watermark = greatest(watermarks.watermark, excluded.watermark), updated_at = excluded.updated_at`,
      params,
    );
  }
}

/**
 * Moves a domain's watermark back to `to` (never forward): rows before the old watermark were
 * lost from the lake, so the next incremental ingest must fetch them again.
 */
export async function rewindWatermarkRow(db: Db, domain: string, to: Date, at: Date): Promise<void> {
  await db.run(
    `UPDATE watermarks SET watermark = $to::TIMESTAMPTZ, updated_at = $at::TIMESTAMPTZ WHERE domain = $domain AND watermark > $to::TIMESTAMPTZ`,
    { domain, to: to.toISOString(), at: at.toISOString() },
  );
}

/**
 * Pulls every watermark later than `limit` back to it and returns those domains. A watermark past
 * now minus the settle time (left by an older version that let `--to` move it into the future)
 * would make every incremental run start after the present and fetch nothing.
 */
export async function pullBackWatermarks(db: Db, limit: Date, at: Date): Promise<string[]> {
  const rows = await db.all<{ domain: string }>(
    `UPDATE watermarks SET watermark = $lim::TIMESTAMPTZ, updated_at = $at::TIMESTAMPTZ WHERE watermark > $lim::TIMESTAMPTZ RETURNING domain`,
    { lim: limit.toISOString(), at: at.toISOString() },
  );
  return rows.map((r) => r.domain).sort();
}
