/**
 * The non-model tables the SQL models read: domains (with their effective time zone), plans,
 * plan_rules, rates, domain_plans, frozen_ratings and build_info. Loaded by the transform from the
 * lake, the config and state before the models run.
 */
import type { Db } from '../db/duckdb.ts';
import type { CdrpipeConfig } from '../config/index.ts';
import { customerFor } from '../config/index.ts';
import type { Logger } from '../util/logger.ts';
import { insertRows, type Cell } from './insert-rows.ts';
import { loadInputTable, type InputReuse } from './input-tables.ts';
import { readLakeDomains } from './lake-views.ts';
import type { PlanSnapshot } from './plan-registry.ts';
import { PRICE_COLUMNS, RATE_DECK_COLUMNS, rateDeckColumnShapes, rateRowCells } from './rate-deck.ts';
import type { TableShape } from './table-shape.ts';

export const TIME_ZONE_SOURCES = ['config', 'pbx', 'default'] as const;
export type TimeZoneSource = (typeof TIME_ZONE_SOURCES)[number];

const DOMAINS: TableShape = {
  table: 'domains',
  columns: [
    ['domain', 'VARCHAR'],
    ['reseller', 'VARCHAR'],
    ['description', 'VARCHAR'],
    ['display_name', 'VARCHAR'],
    ['time_zone', 'VARCHAR NOT NULL'],
    ['time_zone_source', 'VARCHAR NOT NULL'],
    ['pbx_time_zone', 'VARCHAR'],
    ['in_reports', 'BOOLEAN'],
  ],
  primaryKey: ['domain'],
};

const PLAN_KEY: [string, string][] = [
  ['plan_id', 'VARCHAR'],
  ['plan_version', 'VARCHAR'],
];

const PLANS: TableShape = {
  table: 'plans',
  columns: [
    ...PLAN_KEY,
    ['currency', 'VARCHAR'],
    ['decimals', 'INTEGER'],
    ['included_minutes', 'INTEGER'],
    ['rate_deck', 'VARCHAR'],
    ['content_sha256', 'VARCHAR'],
  ],
  primaryKey: ['plan_id', 'plan_version'],
};

/** A plan's fixed rules (inbound, toll-free inbound): a price without a prefix. */
const PLAN_RULES: TableShape = {
  table: 'plan_rules',
  columns: [...PLAN_KEY, ['rule', 'VARCHAR'], ...rateDeckColumnShapes(PRICE_COLUMNS)],
  primaryKey: ['plan_id', 'plan_version', 'rule'],
};

const RATES: TableShape = {
  table: 'rates',
  columns: [...PLAN_KEY, ...rateDeckColumnShapes(RATE_DECK_COLUMNS)],
  primaryKey: ['plan_id', 'plan_version', 'prefix', 'effective_from'],
};

const DOMAIN_PLANS: TableShape = {
  table: 'domain_plans',
  columns: [['domain', 'VARCHAR'], ...PLAN_KEY, ['included_minutes', 'INTEGER'], ['currency', 'VARCHAR']],
  primaryKey: ['domain'],
};

const FROZEN_RATINGS: TableShape = {
  table: 'frozen_ratings',
  columns: [['domain', 'VARCHAR'], ['local_month', 'VARCHAR'], ...PLAN_KEY, ['included_minutes', 'INTEGER'], ['rated_at', 'TIMESTAMPTZ']],
  primaryKey: ['domain', 'local_month'],
};

/** A frozen (closed, already rated) local month and the plan version it keeps. */
export interface FrozenRating {
  domain: string;
  localMonth: string;
  planId: string;
  planVersion: string;
  includedMinutes: number;
  ratedAt: string;
}

async function duckdbKnowsZone(db: Db, tz: string): Promise<boolean> {
  try {
    await db.one(`SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' AT TIME ZONE $1 AS t`, [tz]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The zones among `zones` that DuckDB lists by name, in one statement (a probe per zone costs a
 * statement each); a zone it does not list is probed on its own (it may still be accepted).
 */
async function zonesListed(db: Db, zones: readonly (string | null | undefined)[]): Promise<Map<string, boolean>> {
  const wanted = [...new Set(zones.filter((z): z is string => typeof z === 'string' && z !== ''))];
  const known = new Map<string, boolean>();
  if (wanted.length === 0) return known;
  const listed = await db.all<{ name: string }>(
    `SELECT name FROM pg_timezone_names() WHERE list_contains(from_json($1::JSON, '["VARCHAR"]'), name)`,
    [JSON.stringify(wanted)],
  );
  for (const { name } of listed) known.set(name, true);
  return known;
}

/**
 * Builds `domains`: every domain of lake/domains and of the CDRs, with the effective time zone;
 * with `onlyCdrDomains`, only the domains of the CDRs (a rating of a few domains' calls need not
 * load a reseller's thousand). `cdrDomains` are the CDRs' domains when the caller knows them
 * already (from the lake's partition paths); otherwise `cdrs` is scanned for them.
 */
export async function loadDomains(
  db: Db,
  dataDir: string,
  config: CdrpipeConfig,
  logger: Logger,
  opts: { onlyCdrDomains?: boolean; cdrDomains?: readonly string[]; reuse?: InputReuse } = {},
): Promise<string[]> {
  const cdrDomains = opts.cdrDomains
    ? opts.cdrDomains.map((domain) => ({ domain }))
    : await db.all<{ domain: string }>(`SELECT DISTINCT domain FROM cdrs WHERE domain IS NOT NULL`);
  const inCdrs = new Set(cdrDomains.map((d) => d.domain));
  const lakeDomains = await readLakeDomains(db, dataDir, opts.onlyCdrDomains ? [...inCdrs] : undefined);
  const byName = new Map(lakeDomains.map((d) => [d.domain, d]));
  for (const { domain } of cdrDomains)
    if (!byName.has(domain)) byName.set(domain, { domain, reseller: null, description: null, time_zone: null });
  const rows: Cell[][] = [];
  const known = await zonesListed(db, [
    ...[...byName.values()].map((d) => d.time_zone),
    ...[...byName.values()].map((d) => customerFor(config, d.domain).timeZone),
  ]);
  const check = async (tz: string) => {
    if (!known.has(tz)) known.set(tz, await duckdbKnowsZone(db, tz));
    return known.get(tz)!;
  };
  for (const d of [...byName.values()].sort((a, b) => a.domain.localeCompare(b.domain))) {
    const c = customerFor(config, d.domain);
    let tz = 'UTC';
    let source: TimeZoneSource = 'default';
    if (c.timeZone && (await check(c.timeZone))) {
      tz = c.timeZone;
      source = 'config';
    } else if (d.time_zone && (await check(d.time_zone))) {
      tz = d.time_zone;
      source = 'pbx';
    } else if (d.time_zone) {
      logger.warn(
        { domain: d.domain, pbxTimeZone: d.time_zone },
        'PBX time zone unknown to DuckDB ICU; using UTC (set customers.domains.<d>.timeZone to fix)',
      );
    }
    rows.push([d.domain, d.reseller, d.description, c.displayName ?? null, tz, source, d.time_zone, c.reports ?? true]);
  }
  await loadInputTable(db, DOMAINS, rows, opts.reuse);
  return rows.map((r) => r[0] as string);
}

/**
 * Loads plans, plan_rules and rates for every snapshot (current and frozen versions), one statement
 * per table (rows in snapshot order, as one statement per snapshot stored them).
 */
export async function loadPlans(db: Db, snapshots: readonly PlanSnapshot[], reuse?: InputReuse): Promise<void> {
  const plans: Cell[][] = [];
  const rules: Cell[][] = [];
  const rates: Cell[][] = [];
  const seen = new Set<string>();
  for (const s of snapshots) {
    const key = `${s.planId}\u0000${s.planVersion}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const p = s.plan;
    plans.push([s.planId, s.planVersion, p.currency, p.decimals, p.includedMinutes, p.rateDeck, s.contentSha256]);
    const rule = (name: string, description: string, r: typeof p.inbound): Cell[] => [
      s.planId,
      s.planVersion,
      name,
      description,
      r.perMinute,
      r.initialIncrement,
      r.subsequentIncrement,
      r.minimumSeconds,
      r.connectFee,
    ];
    rules.push(rule('inbound', 'Inbound', p.inbound), rule('toll-free-inbound', 'Toll-free inbound', p.tollFreeInbound));
    rates.push(...s.deckRows.map((r) => [s.planId, s.planVersion, ...rateRowCells(r)]));
  }
  await loadInputTable(db, PLANS, plans, reuse);
  await loadInputTable(db, PLAN_RULES, rules, reuse);
  await loadInputTable(db, RATES, rates, reuse);
}

/** domain_plans (the current config per domain), frozen_ratings (from state) and build_info. */
export async function loadRatingInputs(
  db: Db,
  config: CdrpipeConfig,
  domains: readonly string[],
  frozen: readonly FrozenRating[],
  builtAt: Date,
  reuse?: InputReuse,
): Promise<void> {
  await loadInputTable(
    db,
    DOMAIN_PLANS,
    domains.map((d) => {
      const c = customerFor(config, d);
      return [d, c.plan, c.planDef.version, c.includedMinutes ?? c.planDef.includedMinutes, c.planDef.currency];
    }),
    reuse,
  );
  await loadInputTable(
    db,
    FROZEN_RATINGS,
    frozen.map((f) => [f.domain, f.localMonth, f.planId, f.planVersion, f.includedMinutes, f.ratedAt]),
    reuse,
  );
  await db.run(`CREATE OR REPLACE TABLE build_info (built_at TIMESTAMPTZ, built_by VARCHAR)`);
  await insertRows(db, 'build_info', ['built_at', 'built_by'], [[builtAt.toISOString(), 'cdrpipe transform']]);
}
