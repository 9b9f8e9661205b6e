/**
 * The carrier side's inputs to the warehouse: the `carrier_cdrs` view over the carriers' files in
 * the lake, `carrier_terms` (each carrier's increments, tolerances and dispute thresholds with
 * their defaults filled in) and `carrier_rates` (each carrier's buy-side deck, parsed by the same
 * rules as a plan's sell-side deck). The carrier models read only these, so a data directory with
 * no carrier files still builds them (empty).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString, type Db } from '../db/duckdb.ts';
import { CARRIER_PRESETS, carrierTermSettings, type CdrpipeConfig } from '../config/index.ts';
import { carrierCdrsDir, carrierCdrsGlob } from '../lake/index.ts';
import { ConfigError } from '../util/errors.ts';
import { toMoney6 } from '../util/money.ts';
import { insertRows, type Cell } from './insert-rows.ts';
import { RATE_DECK_COLUMNS, rateDeckColumnShapes, rateRowCells, readRateDeck } from './rate-deck.ts';
import { columnNames, createTableSql, type TableShape } from './table-shape.ts';

/** One carrier's reconciliation terms, defaults applied. */
export interface CarrierTerms {
  carrier: string;
  currency: string;
  initialIncrement: number;
  subsequentIncrement: number;
  /** Carrier start vs our answer time, either way. */
  timeToleranceS: number;
  /** Carrier seconds over our talk time at the carrier's increments. */
  durationToleranceS: number;
  /** DECIMAL(18,6) text. */
  costTolerance: string;
  /** Absolute path of the buy-side deck, when the carrier has one. */
  buyDeck: string | undefined;
  /** `carrier reconcile` exits 3 above any of these. */
  maxDisputes: number;
  maxPhantoms: number;
  /** DECIMAL(18,6) text. */
  maxDisputedAmount: string;
  /** Absolute path of the folder the carrier-reconcile task watches, when set. */
  inbox: string | undefined;
}

/** The terms of `carrier`: its `carriers.<name>` settings over the defaults (config's carrierTermSettings). */
export function carrierTerms(config: CdrpipeConfig, carrier: string): CarrierTerms {
  const t = carrierTermSettings(config.carriers[carrier]);
  return {
    carrier,
    currency: t.currency,
    initialIncrement: t.increments.initial,
    subsequentIncrement: t.increments.subsequent,
    timeToleranceS: t.tolerances.timeSeconds,
    durationToleranceS: t.tolerances.durationSeconds,
    costTolerance: toMoney6(t.tolerances.cost),
    buyDeck: t.buyDeck,
    maxDisputes: t.disputeThresholds.disputes,
    maxPhantoms: t.disputeThresholds.phantoms,
    maxDisputedAmount: toMoney6(t.disputeThresholds.amount),
    inbox: t.inbox,
  };
}

/** The lake's carrier columns (as imported) with their types: what an empty carrier lake looks like. */
const CARRIER_CDR_COLUMNS: readonly [string, string][] = [
  ['call_id', 'VARCHAR'],
  ['start_time', 'TIMESTAMPTZ'],
  ['from_number', 'VARCHAR'],
  ['to_number', 'VARCHAR'],
  ['to_e164', 'VARCHAR'],
  ['billed_seconds', 'INTEGER'],
  ['cost', 'DECIMAL(18,6)'],
  ['currency', 'VARCHAR'],
  ['raw', 'VARCHAR'],
  ['file_sha256', 'VARCHAR'],
  ['file_name', 'VARCHAR'],
  ['line_number', 'BIGINT'],
  ['imported_at', 'TIMESTAMPTZ'],
  ['carrier', 'VARCHAR'],
  ['month', 'VARCHAR'],
];

const CARRIER_TERMS: TableShape = {
  table: 'carrier_terms',
  columns: [
    ['carrier', 'VARCHAR'],
    ['currency', 'VARCHAR'],
    ['initial_increment', 'INTEGER'],
    ['subsequent_increment', 'INTEGER'],
    ['time_tolerance_s', 'DOUBLE'],
    ['duration_tolerance_s', 'DOUBLE'],
    ['cost_tolerance', 'DECIMAL(18,6)'],
    ['has_deck', 'BOOLEAN'],
    ['max_disputes', 'INTEGER'],
    ['max_phantoms', 'INTEGER'],
    ['max_disputed_amount', 'DECIMAL(18,6)'],
  ],
  primaryKey: ['carrier'],
};

/** A carrier's buy-side deck: a sell-side deck's columns under the carrier's name. */
const CARRIER_RATES: TableShape = {
  table: 'carrier_rates',
  columns: [['carrier', 'VARCHAR'], ...rateDeckColumnShapes(RATE_DECK_COLUMNS)],
  primaryKey: ['carrier', 'prefix', 'effective_from'],
};

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && hasParquet(join(dir, entry.name))) return true;
  }
  return false;
}

/**
 * Creates (or replaces) the view `carrier_cdrs` over lake/carrier_cdrs, or an empty view with the
 * same columns when no carrier file was imported. Returns whether the lake has carrier files.
 */
export async function createCarrierCdrsView(db: Db, dataDir: string, name = 'carrier_cdrs'): Promise<boolean> {
  if (!hasParquet(carrierCdrsDir(dataDir))) {
    await db.run(
      `CREATE OR REPLACE VIEW ${name} AS SELECT ${CARRIER_CDR_COLUMNS.map(([c, t]) => `NULL::${t} AS ${c}`).join(', ')} WHERE false`,
    );
    return false;
  }
  const cols = CARRIER_CDR_COLUMNS.map(([c, t]) => `CAST(${c} AS ${t}) AS ${c}`).join(', ');
  await db.run(
    `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols} FROM read_parquet(${sqlString(carrierCdrsGlob(dataDir))}, hive_partitioning = true, union_by_name = true, hive_types = {'carrier': VARCHAR, 'month': VARCHAR})`,
  );
  return true;
}

/** Every carrier the warehouse knows: configured ones, the presets (they work unconfigured), and any with files in the lake. */
async function knownCarriers(db: Db, config: CdrpipeConfig): Promise<string[]> {
  const inLake = await db.all<{ carrier: string }>(`SELECT DISTINCT carrier FROM carrier_cdrs WHERE carrier IS NOT NULL`);
  return [...new Set([...CARRIER_PRESETS, ...Object.keys(config.carriers), ...inLake.map((r) => r.carrier)])].sort();
}

/**
 * Builds `carrier_terms` and `carrier_rates` (needs the `carrier_cdrs` view). A buy deck that
 * cannot be read or parsed is a ConfigError naming `carriers.<name>.buyDeck`.
 */
export async function loadCarrierInputs(db: Db, config: CdrpipeConfig): Promise<CarrierTerms[]> {
  const terms = (await knownCarriers(db, config)).map((c) => carrierTerms(config, c));
  await db.run(createTableSql(CARRIER_TERMS));
  await db.run(createTableSql(CARRIER_RATES));
  const termRows: Cell[][] = [];
  for (const t of terms) {
    termRows.push([
      t.carrier,
      t.currency,
      t.initialIncrement,
      t.subsequentIncrement,
      t.timeToleranceS,
      t.durationToleranceS,
      t.costTolerance,
      t.buyDeck !== undefined,
      t.maxDisputes,
      t.maxPhantoms,
      t.maxDisputedAmount,
    ]);
    if (t.buyDeck === undefined) continue;
    let rows;
    try {
      rows = (await readRateDeck(t.buyDeck)).rows;
    } catch (err) {
      const field = `carriers.${t.carrier}.buyDeck`;
      throw new ConfigError(`${field}: ${err instanceof Error ? err.message : String(err)}`, field, { cause: err });
    }
    await insertRows(
      db,
      CARRIER_RATES.table,
      columnNames(CARRIER_RATES),
      rows.map((r) => [t.carrier, ...rateRowCells(r)]),
      500,
    );
  }
  await insertRows(db, CARRIER_TERMS.table, columnNames(CARRIER_TERMS), termRows);
  return terms;
}
