/**
 * Plan versions in state.duckdb (table plan_versions): the prices each version stood for, so a
 * frozen month is always re-derived with the prices it was billed at. One version means one set
 * of prices: changing a plan or its deck without bumping `version` is refused.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/duckdb.ts';
import type { CdrpipeConfig, Plan } from '../config/index.ts';
import { resolveProjectPath } from '../config/index.ts';
import { ConfigError } from '../util/errors.ts';
import { parseRateDeck, readRateDeck, type RateRow } from './rate-deck.ts';

/** A plan version with everything needed to rate with it. */
export interface PlanSnapshot {
  planId: string;
  planVersion: string;
  plan: Plan;
  deckCsv: string;
  deckRows: RateRow[];
  contentSha256: string;
}

function planJson(plan: Plan): string {
  // The deck's path is not part of the prices; its content is (hashed beside this).
  const { rateDeck: _path, ...rest } = plan;
  return JSON.stringify(rest);
}

function contentHash(plan: Plan, deckCsv: string): string {
  return createHash('sha256').update(planJson(plan)).update('\n').update(deckCsv.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads every plan's deck from disk (validated), without touching state. */
export async function currentPlanSnapshots(config: CdrpipeConfig): Promise<PlanSnapshot[]> {
  const out: PlanSnapshot[] = [];
  for (const [planId, plan] of Object.entries(config.plans)) {
    let deck: { text: string; rows: RateRow[] };
    try {
      deck = await readRateDeck(resolveProjectPath(plan.rateDeck));
    } catch (err) {
      throw new ConfigError(`plans.${planId}.rateDeck: ${err instanceof Error ? err.message : String(err)}`, `plans.${planId}.rateDeck`, {
        cause: err,
      });
    }
    out.push({
      planId,
      planVersion: plan.version,
      plan,
      deckCsv: deck.text,
      deckRows: deck.rows,
      contentSha256: contentHash(plan, deck.text),
    });
  }
  return out;
}

/**
 * Records the current plan versions in state; a version already recorded with other prices is a
 * ConfigError naming plans.<id>.version (bump the version when prices change).
 */
export async function registerPlanVersions(state: Db, snapshots: readonly PlanSnapshot[], now: Date): Promise<void> {
  for (const s of snapshots) {
    const existing = await state.one<{ content_sha256: string }>(
      `SELECT content_sha256 FROM plan_versions WHERE plan_id = $1 AND plan_version = $2`,
      [s.planId, s.planVersion],
    );
    if (existing && existing.content_sha256 !== s.contentSha256) {
      throw new ConfigError(
        `plans.${s.planId}.version: plan ${JSON.stringify(s.planId)} version ${JSON.stringify(s.planVersion)} was already used for rating with other prices ` +
          `(settings or rate deck ${s.plan.rateDeck} changed). Give the new prices a new version, e.g. "${s.planVersion}-b"; months already frozen keep the old one ` +
          `unless re-rated with \`cdrpipe transform --rerate YYYY-MM\`.`,
        `plans.${s.planId}.version`,
      );
    }
    if (!existing) {
      await state.run(
        `INSERT INTO plan_versions (plan_id, plan_version, plan_json, deck_csv, content_sha256, registered_at) VALUES ($1, $2, $3, $4, $5, $6::TIMESTAMPTZ)`,
        [s.planId, s.planVersion, JSON.stringify(s.plan), s.deckCsv, s.contentSha256, now.toISOString()],
      );
    }
  }
}

/** A recorded plan version as it was registered (for frozen months whose version left the config). */
export async function loadPlanVersion(state: Db, planId: string, planVersion: string): Promise<PlanSnapshot | undefined> {
  const row = await state.one<{ plan_json: string; deck_csv: string; content_sha256: string }>(
    `SELECT plan_json, deck_csv, content_sha256 FROM plan_versions WHERE plan_id = $1 AND plan_version = $2`,
    [planId, planVersion],
  );
  if (!row) return undefined;
  const plan = (typeof row.plan_json === 'string' ? JSON.parse(row.plan_json) : row.plan_json) as Plan;
  return {
    planId,
    planVersion,
    plan,
    deckCsv: row.deck_csv,
    deckRows: parseRateDeck(row.deck_csv, `plan_versions ${planId}@${planVersion}`),
    contentSha256: row.content_sha256,
  };
}
