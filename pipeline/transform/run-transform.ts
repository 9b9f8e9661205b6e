/**
 * `cdrpipe transform`: builds warehouse.duckdb from the lake, the config and state.
 *
 * The warehouse is built aside (a temp file in the data dir) and renamed into place, so readers
 * (which open it READ_ONLY) see the previous build or the new one, never half of one. state.duckdb
 * is opened only for short reads and writes before and after the build.
 */
import { prepareLakeForReading } from '../store/index.ts';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, existsSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Db } from '../db/duckdb.ts';
import { duckdbSettings, resolveProjectPath } from '../config/index.ts';
import { DamagedLakeError, damagedLakeErrorOr, setAsideDamagedLakeFiles, warehousePath } from '../lake/index.ts';
import { withState } from '../state/index.ts';
import { isMonth } from '../util/month.ts';
import { UsageError } from '../util/errors.ts';
import { publishFile } from '../util/atomic-file.ts';
import {
  assertDataTestsPass,
  blockingFailures,
  runDataTests,
  SLICE_BATCH,
  storeDataTestResults,
  type DataTestResult,
} from './data-tests.ts';
import { createCarrierCdrsView, loadCarrierInputs } from './carrier-inputs.ts';
import { cdrsViewSql } from './lake-views.ts';
import {
  changeCounts,
  changedFiles,
  computeMonthFingerprints,
  diffMonths,
  domainsWithIdsElsewhere,
  loadLakeStamps,
  MANIFEST_FORMAT,
  markDomainsChanged,
  readManifest,
  readManifestFiles,
  readPreviousTests,
  writeManifest,
  type ChangeReason,
} from './build-manifest.ts';
import { buildModels, dropModelDelta } from './build-models.ts';
import { isIncrementalModel, planModels, sqlSha256, type ModelPlan, type PreviousModel } from './incremental-plan.ts';
import { lakeDomainsFromPaths, lakeFileStamps, type LakeFileStamp } from './lake-stamps.ts';
import { lakeCdrsSliceSource } from './lake-views.ts';
import { loadSqlDir } from './model-graph.ts';
import { currentPlanSnapshots, loadPlanVersion, registerPlanVersions, type PlanSnapshot } from './plan-registry.ts';
import { loadSqlProject } from './sql-project.ts';
import { inputFingerprints, inputManifestEntries, type InputReuse } from './input-tables.ts';
import { planTestScopes, type PreviousTest } from './test-scope.ts';
import { createTestSlice, dropTestSlice, TEST_DOMAINS_SCHEMA, TEST_SLICE_SCHEMA } from './test-slice.ts';
import { loadDomains, loadPlans, loadRatingInputs, type FrozenRating } from './warehouse-inputs.ts';
import type { StageContext } from '../config/index.ts';

export interface TransformOptions extends StageContext {
  /** Release frozen prices of a local month (YYYY-MM), for all domains or these, and rate it with the current plan. */
  rerate?: { month: string; domains?: string[] };
  /** Rebuild every model from the whole lake, whatever the previous build recorded. */
  full?: boolean;
  /** Where the SQL lives; defaults to the project's reports/ folders. */
  modelsDir?: string;
  macrosDir?: string;
  testsDir?: string;
}

export interface ModelBuild {
  name: string;
  rows: number;
  dependsOn: string[];
}

export interface RatedMonth {
  domain: string;
  localMonth: string;
  planId: string;
  planVersion: string;
  /** Closed and frozen: this plan version stays until re-rated. */
  frozen: boolean;
}

/** How the warehouse was built: in full, or by recomputing the domain-months whose inputs changed. */
export interface BuildReport {
  mode: 'full' | 'incremental';
  /** Why the build was full (`--full`, no previous warehouse, macros changed, ...). */
  fullReason?: string;
  /** Domain-months the lake feeds. */
  domainMonths: number;
  /** Domain-months recomputed (all of them in a full build); the rest were kept. */
  recomputed: number;
  /** Changed domain-months by reason (incremental builds): new, gone, lake, domain, plan, closed, duplicate_id. */
  changes: Partial<Record<ChangeReason, number>>;
  /** What happened to each model: full (with why), incremental, or keep. */
  models: ModelPlan[];
  /**
   * Data tests run on the changed domain-months (or domains) only, on the whole warehouse, and kept:
   * not run, because they read only the catalog of a table this build did not create again
   * (transform/test-scope.ts).
   */
  tests: { slice: number; whole: number; kept: number };
}

export interface TransformSummary {
  /** failed: a blocking data test failed (the warehouse is still replaced, so the failure can be inspected). */
  status: 'ok' | 'failed';
  warehouse: string;
  builtAt: string;
  lakeEmpty: boolean;
  /** Rows of rated_calls (one per call leg). */
  rows: number;
  domains: number;
  models: ModelBuild[];
  tests: DataTestResult[];
  /** Names of blocking test failures. */
  failedTests: string[];
  /** Names of tests that failed with severity warn. */
  warnedTests: string[];
  ratedMonths: RatedMonth[];
  /** Months frozen by this run (closed months rated for the first time, or re-rated). */
  newlyFrozen: number;
  rerated: { month: string; domains: string[] | 'all'; released: number } | undefined;
  build: BuildReport;
}

/** Throws DataTestFailedError when the summary's blocking tests failed (the report stage calls this). */
export function assertTransformTestsPass(summary: TransformSummary): void {
  assertDataTestsPass(summary.tests);
}

const DEFAULT_MODELS = 'reports/models';
/** Changed domain-months up to which the data tests on the slice are counted several to a statement. */
const SMALL_SLICE_DOMAIN_MONTHS = 200;
const DEFAULT_MACROS = 'reports/macros';

export async function runTransform(opts: TransformOptions): Promise<TransformSummary> {
  const { dataDir, config, logger, clock, signal } = opts;
  const builtAt = clock.now();
  const steps: Record<string, number> = {};
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    steps[name] = Math.round(now - mark);
    mark = now;
  };
  const modelsDir = opts.modelsDir ?? resolveProjectPath(DEFAULT_MODELS);
  const macrosDir = opts.macrosDir ?? resolveProjectPath(DEFAULT_MACROS);
  const testsDir = opts.testsDir ?? join(modelsDir, 'tests');
  if (opts.rerate && !isMonth(opts.rerate.month)) {
    throw new UsageError(`--rerate ${JSON.stringify(opts.rerate.month)}: expected a month YYYY-MM, e.g. 2026-10`);
  }

  // With the lake in a bucket, the local copy of the whole lake is brought up to date first.
  await prepareLakeForReading(opts);
  step('prepare lake');
  const { models, tests } = await loadSqlProject({ modelsDir, testsDir });
  const macros = await loadSqlDir(macrosDir);
  const finalPath = warehousePath(dataDir);
  const macrosSha = sqlSha256(macros.map((m) => `${m.name}\n${m.sql}`).join('\n'));
  const tmpPath = join(dataDir, `.warehouse-${process.pid}-${randomBytes(4).toString('hex')}.duckdb`);
  // The memory budget's share, spilling under the data directory beyond it.
  const settings = duckdbSettings(config, dataDir);
  // An incremental build patches a copy of the published warehouse (the published file is not
  // touched); the copy is made and opened first, and the previous build is read from it.
  // Three independent reads side by side: the previous build (copy, open, manifest), every lake
  // file's stamp, and the configured plans.
  const [priorRead, stampsRead, currentRead] = await Promise.allSettled([
    previousBuild(finalPath, tmpPath, { full: opts.full === true, macrosSha, settings }),
    lakeFileStamps(dataDir),
    currentPlanSnapshots(config),
  ]);
  if (priorRead.status === 'rejected') throw priorRead.reason;
  const prior = priorRead.value;
  step('previous build, lake stamps, plans');
  try {
    if (stampsRead.status === 'rejected') throw stampsRead.reason;
    return await buildAndPublish(prior.db, stampsRead.value, currentRead);
  } catch (err) {
    try {
      prior.db?.close();
    } catch {
      // already closed
    }
    await rm(tmpPath, { force: true });
    await rm(`${tmpPath}.wal`, { force: true });
    throw err;
  }

  async function buildAndPublish(
    copy: Db | undefined,
    stamps: Awaited<ReturnType<typeof lakeFileStamps>>,
    currentRead: PromiseSettledResult<PlanSnapshot[]>,
  ): Promise<TransformSummary> {
    // A damaged lake file is moved aside before anything reads it; this run stops and says how to rebuild it.
    // A file the build being patched recorded with the same stamp was checked then, and is not read again now.
    const toCheck = prior.files ? stamps.files.filter((f) => prior.files!.get(f.file) !== f.stamp).map((f) => f.path) : undefined;
    const damaged = await setAsideDamagedLakeFiles(dataDir, builtAt, toCheck ? { files: toCheck } : {});
    if (damaged.length > 0) throw new DamagedLakeError(damaged);
    step('damaged check');
    // A damaged lake file is reported before a plan that cannot be read, as when these steps ran one after the other.
    if (currentRead.status === 'rejected') throw currentRead.reason;
    const current = currentRead.value;

    // State: release re-rated months, register plan versions, read frozen months.
    let released = 0;
    const { frozen, snapshots } = await withState(
      dataDir,
      async (state) => {
        if (opts.rerate) {
          const ds = opts.rerate.domains;
          const before = await state.one<{ n: number }>(
            `SELECT count(*)::INTEGER AS n FROM rating_runs WHERE month = $1 ${ds?.length ? `AND list_contains(from_json($2::JSON, '["VARCHAR"]'), domain)` : ''}`,
            ds?.length ? [opts.rerate.month, JSON.stringify(ds)] : [opts.rerate.month],
          );
          released = Number(before?.n ?? 0);
          await state.run(
            `DELETE FROM rating_runs WHERE month = $1 ${ds?.length ? `AND list_contains(from_json($2::JSON, '["VARCHAR"]'), domain)` : ''}`,
            ds?.length ? [opts.rerate.month, JSON.stringify(ds)] : [opts.rerate.month],
          );
        }
        await registerPlanVersions(state, current, builtAt);
        const rows = await state.all<{
          domain: string;
          month: string;
          plan_id: string;
          plan_version: string;
          included_minutes: number | null;
          rated_at: string;
        }>(`SELECT domain, month, plan_id, plan_version, included_minutes, rated_at FROM rating_runs WHERE frozen`);
        const frozenRatings: FrozenRating[] = rows.map((r) => ({
          domain: r.domain,
          localMonth: r.month,
          planId: r.plan_id,
          planVersion: r.plan_version,
          includedMinutes: Number(r.included_minutes ?? 0),
          ratedAt: r.rated_at,
        }));
        const all: PlanSnapshot[] = [...current];
        const have = new Set(current.map((s) => `${s.planId}\u0000${s.planVersion}`));
        for (const f of frozenRatings) {
          const key = `${f.planId}\u0000${f.planVersion}`;
          if (have.has(key)) continue;
          const snap = await loadPlanVersion(state, f.planId, f.planVersion);
          if (!snap)
            throw new Error(
              `state: month ${f.localMonth} of ${f.domain} is frozen on plan ${f.planId}@${f.planVersion}, which plan_versions does not hold; re-rate it with --rerate ${f.localMonth}`,
            );
          all.push(snap);
          have.add(key);
        }
        return { frozen: frozenRatings, snapshots: all };
      },
      { signal },
    );
    if (opts.rerate)
      logger.info({ month: opts.rerate.month, domains: opts.rerate.domains ?? 'all', released }, 'released frozen prices for re-rating');
    step('state read');

    let fullReason = prior.fullReason;
    const previousModels: ReadonlyMap<string, PreviousModel> = prior.models ?? new Map();
    let report: BuildReport | undefined;
    const builds: ModelBuild[] = [];
    let results: DataTestResult[] = [];
    let ratedMonths: (RatedMonth & { closed: boolean; includedMinutes: number; wasFrozen: boolean })[] = [];
    let lakeEmpty = true;
    let rows = 0;
    let domainCount = 0;
    const started = Date.now();
    const db = copy ?? (await Db.open(tmpPath, { settings }));
    step('open');
    try {
      await db.run(`SET parquet_metadata_cache = true`);
      // The lake's domains off its partition paths, when the paths tell them (no file is read).
      const pathDomains = lakeDomainsFromPaths(stamps);
      const viewSql = cdrsViewSql(dataDir, {
        anyFile: stamps.files.length + stamps.stray.length > 0,
        segments: stamps.files.map((f) => f.domainSegment),
      });
      lakeEmpty = stamps.files.length + stamps.stray.length === 0;
      // Binding the view opens every lake file's footer: an incremental build keeps the copy's view when it still holds.
      let viewCreated = false;
      if (fullReason !== undefined || pathDomains === undefined) {
        await db.run(viewSql);
        viewCreated = true;
      }
      step('cdrs view');
      for (const m of macros) await db.exec(m.sql);
      // The carrier side: an empty view and no terms beyond the defaults when no carrier file was imported.
      await createCarrierCdrsView(db, dataDir);
      await loadCarrierInputs(db, config);
      step('macros+carrier');
      // An incremental build loads an input table only when its rows differ from the patched build's.
      const reuse: InputReuse = { previous: fullReason === undefined ? (prior.inputs ?? new Map()) : new Map(), current: new Map() };
      const domains = await loadDomains(db, dataDir, config, logger, { ...(pathDomains ? { cdrDomains: pathDomains } : {}), reuse });
      domainCount = domains.length;
      step('domains');
      await loadPlans(db, snapshots, reuse);
      await loadRatingInputs(db, config, domains, frozen, builtAt, reuse);
      step('plans+rating inputs');

      logger.debug({ ms: Date.now() - started }, 'inputs loaded');
      // What each domain-month is built from, and what changed since the previous build.
      const unmapped = await loadLakeStamps(db, stamps.files);
      step('load stamps');
      await computeMonthFingerprints(db);
      step('fingerprints');
      if (fullReason === undefined && stamps.stray.length > 0)
        fullReason = `lake file outside the month=/domain= layout: ${stamps.stray[0]!.file}`;
      if (fullReason === undefined && unmapped.length > 0) fullReason = `lake partition of no known domain: domain=${unmapped[0]}`;
      let changes: Partial<Record<ChangeReason, number>> = {};
      let slice: string | undefined;
      if (fullReason === undefined) {
        await diffMonths(db);
        let read = await changedFiles(db);
        const duplicated = await domainsWithIdsElsewhere(db, read);
        if (duplicated.length > 0) {
          await markDomainsChanged(db, duplicated);
          read = await changedFiles(db);
        }
        changes = await changeCounts(db);
        slice = lakeCdrsSliceSource(read.map((r) => r.path));
        step('diff');
      }
      if (!viewCreated && !(fullReason === undefined && (await viewStillHolds(db, { viewSql, prior, slice, files: stamps.files })))) {
        await db.run(viewSql);
      }
      step('cdrs view check');
      const changed = Object.values(changes).reduce((a, b) => a + (b ?? 0), 0);
      const planned = planModels(models, { fullReason, previous: previousModels, changedDomainMonths: changed });
      logger.debug({ ms: Date.now() - started, changes }, 'changes found');
      const modelMs: Record<string, number | string> = {};
      // The recomputed rows are kept aside until the data tests have read them.
      const built = await buildModels(db, models, planned, {
        slice,
        signal,
        onModel: (name, ms, phases) =>
          (modelMs[name] =
            Object.keys(phases).length > 0
              ? `${Math.round(ms)} (${Object.entries(phases)
                  .map(([k, v]) => `${k} ${Math.round(v)}`)
                  .join(', ')})`
              : Math.round(ms)),
        keepDelta: true,
      });
      logger.debug({ modelMs }, 'model times');
      step('models');
      logger.debug({ ms: Date.now() - started }, 'models built');
      builds.push(...built.builds);
      for (const b of built.builds) logger.debug({ model: b.name, rows: b.rows }, 'model built');
      // What the build being patched recorded of its tests, read before this build replaces it.
      const previousTests: ReadonlyMap<string, PreviousTest> = fullReason === undefined ? await readPreviousTests(db) : new Map();
      // A model that no longer exists leaves no table behind (as in a build from scratch).
      for (const name of previousModels.keys()) if (!models.some((m) => m.name === name)) await db.run(`DROP TABLE IF EXISTS main.${name}`);
      await writeManifest(
        db,
        {
          format: MANIFEST_FORMAT,
          duckdb: prior.duckdbVersion ?? (await duckdbVersion(db)),
          macros: macrosSha,
          cdrs_view: viewSql,
          ...inputManifestEntries(reuse),
        },
        models.map((m) => ({ name: m.name, sqlSha256: sqlSha256(m.sql), incremental: isIncrementalModel(m) })),
        tests.map((t) => ({ name: t.name, sqlSha256: sqlSha256(t.sql) })),
      );
      step('manifest');
      const scopes = planTestScopes(tests, { models: fullReason === undefined ? built.plans : undefined, previous: previousTests });
      const onSlice = new Map(
        scopes
          .filter((t) => t.scope === 'slice' || t.scope === 'domains')
          .map((t) => [t.name, t.scope === 'domains' ? TEST_DOMAINS_SCHEMA : TEST_SLICE_SCHEMA]),
      );
      const kept = new Set(scopes.filter((t) => t.scope === 'kept').map((t) => t.name));
      const domainMonths = Number((await db.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM incr_months`))?.n ?? 0);
      report = {
        mode: fullReason === undefined ? 'incremental' : 'full',
        ...(fullReason !== undefined ? { fullReason } : {}),
        domainMonths,
        recomputed: fullReason === undefined ? changed : domainMonths,
        changes,
        models: built.plans,
        tests: { slice: onSlice.size, whole: scopes.length - onSlice.size - kept.size, kept: kept.size },
      };
      await db.run(`CREATE OR REPLACE TABLE model_builds (name VARCHAR, rows BIGINT, depends_on VARCHAR[], built_at TIMESTAMPTZ)`);
      // One statement for all models: a statement per model cost as much as recomputing a small one.
      await db.run(
        `INSERT INTO model_builds SELECT r.name, r.rows, r.depends_on, $2::TIMESTAMPTZ
       FROM (SELECT unnest(from_json($1::JSON, '[{"name":"VARCHAR","rows":"BIGINT","depends_on":["VARCHAR"]}]')) AS r)`,
        [JSON.stringify(builds.map((b) => ({ name: b.name, rows: b.rows, depends_on: b.dependsOn }))), builtAt.toISOString()],
      );
      signal?.throwIfAborted();
      try {
        if (onSlice.size > 0) await createTestSlice(db, { slice, models: built.plans, delta: built.delta });
        const testMs: Record<string, number> = {};
        results = await runDataTests(db, tests, {
          onSlice,
          kept,
          // A tick's slice is a few domain-months; a build that recomputes most of them counts its tests one by one.
          slicePerStatement: changed <= SMALL_SLICE_DOMAIN_MONTHS ? SLICE_BATCH : 1,
          onTest: (name, ms) => (testMs[name] = Math.round(ms)),
        });
        logger.debug({ testMs }, 'test times');
      } finally {
        if (onSlice.size > 0) await dropTestSlice(db);
        if (built.delta !== undefined) await dropModelDelta(db);
      }
      logger.debug({ ms: Date.now() - started }, 'data tests run');
      step('data tests');
      await storeDataTestResults(db, results, builtAt);
      step('store results');
      rows = builds.find((b) => b.name === 'rated_calls')?.rows ?? 0;
      if (builds.some((b) => b.name === 'rating_plans')) {
        const rp = await db.all<{
          domain: string;
          local_month: string;
          plan_id: string;
          plan_version: string;
          frozen: boolean;
          month_closed: boolean;
          included_minutes: number;
        }>(
          `SELECT domain, local_month, plan_id, plan_version, frozen, month_closed, included_minutes FROM rating_plans ORDER BY domain, local_month`,
        );
        ratedMonths = rp.map((r) => ({
          domain: r.domain,
          localMonth: r.local_month,
          planId: r.plan_id,
          planVersion: r.plan_version,
          frozen: r.frozen || r.month_closed,
          closed: r.month_closed,
          includedMinutes: Number(r.included_minutes ?? 0),
          wasFrozen: r.frozen,
        }));
      }
      await db.run('CHECKPOINT');
      step('checkpoint');
      db.close();
      await publishFile(tmpPath, finalPath);
      step('close+publish');
      logger.debug({ ms: Date.now() - started }, 'warehouse published');
    } catch (err) {
      try {
        db.close();
      } catch {
        // already closed
      }
      await rm(tmpPath, { force: true });
      await rm(`${tmpPath}.wal`, { force: true });
      // A footer only DuckDB can find fault with: find the file and set it aside too.
      throw await damagedLakeErrorOr(err, dataDir, builtAt);
    }

    // Record what rated each month; closed months become frozen.
    const toRecord = ratedMonths.filter((m) => !m.wasFrozen);
    const newlyFrozen = toRecord.filter((m) => m.closed).length;
    if (toRecord.length > 0) {
      await withState(
        dataDir,
        async (state) => {
          // One statement for all months: a statement per domain-month made this the slowest step of a build.
          await state.run(
            `INSERT OR REPLACE INTO rating_runs (month, domain, plan_id, plan_version, rated_at, included_minutes, frozen)
           SELECT r.month, r.domain, r.plan_id, r.plan_version, $1::TIMESTAMPTZ, r.included_minutes, r.frozen
           FROM (SELECT unnest(from_json($2::JSON, '[{"month":"VARCHAR","domain":"VARCHAR","plan_id":"VARCHAR","plan_version":"VARCHAR","included_minutes":"INTEGER","frozen":"BOOLEAN"}]'), recursive := true)) AS r`,
            [
              builtAt.toISOString(),
              JSON.stringify(
                toRecord.map((m) => ({
                  month: m.localMonth,
                  domain: m.domain,
                  plan_id: m.planId,
                  plan_version: m.planVersion,
                  included_minutes: m.includedMinutes,
                  frozen: m.closed,
                })),
              ),
            ],
          );
          logger.debug({ ms: Date.now() - started, months: toRecord.length }, 'rating runs recorded');
        },
        { signal },
      );
    }

    step('state write');
    logger.debug({ steps }, 'transform steps');
    const failed = blockingFailures(results);
    const summary: TransformSummary = {
      status: failed.length > 0 ? 'failed' : 'ok',
      warehouse: finalPath,
      builtAt: builtAt.toISOString(),
      lakeEmpty,
      rows,
      domains: domainCount,
      models: builds,
      tests: results,
      failedTests: failed.map((f) => f.name),
      warnedTests: results.filter((r) => r.status === 'warn').map((r) => r.name),
      ratedMonths: ratedMonths.map(({ domain, localMonth, planId, planVersion, frozen: f }) => ({
        domain,
        localMonth,
        planId,
        planVersion,
        frozen: f,
      })),
      newlyFrozen,
      rerated: opts.rerate ? { month: opts.rerate.month, domains: opts.rerate.domains ?? 'all', released } : undefined,
      build: report!,
    };
    if (failed.length > 0) logger.error({ failedTests: summary.failedTests }, 'data tests failed: reports will refuse to send');
    else logger.info({ rows, models: builds.length, warnedTests: summary.warnedTests }, 'warehouse built');
    return summary;
  }
}

interface PreviousBuild {
  /** The copy of the published warehouse, open for patching; undefined when the build is full. */
  db?: Db;
  fullReason?: string;
  models?: Map<string, PreviousModel>;
  duckdbVersion?: string;
  /** The lake files it read, with their stamps. */
  files?: Map<string, string>;
  /** The statement that created its `cdrs` view. */
  cdrsView?: string;
  /** The fingerprints of the input tables it loaded (transform/input-tables.ts). */
  inputs?: Map<string, string>;
}

/**
 * True when the `cdrs` view of the warehouse being patched still shows the lake: it was created by
 * the same statement, and its columns are those of the lake now. The view's columns are the union
 * of every file's (union_by_name). When the changed files (the slice) have exactly the view's
 * columns, the union over the unchanged files and the changed ones is the view's again; with no
 * changed file, the lake must hold the same files as before.
 */
async function viewStillHolds(
  db: Db,
  opts: { viewSql: string; prior: PreviousBuild; slice: string | undefined; files: readonly LakeFileStamp[] },
): Promise<boolean> {
  if (opts.prior.cdrsView !== opts.viewSql) return false;
  const viewColumns = await db.all<{ c: string }>(
    `SELECT column_name || ' ' || data_type AS c FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'cdrs' ORDER BY column_index`,
  );
  if (viewColumns.length === 0) return false;
  if (opts.slice === undefined) {
    const before = opts.prior.files;
    return before !== undefined && before.size === opts.files.length && opts.files.every((f) => before.has(f.file));
  }
  const sliceColumns = await db.all<{ c: string }>(
    `SELECT column_name || ' ' || column_type AS c FROM (DESCRIBE SELECT * FROM ${opts.slice})`,
  );
  return sliceColumns.length === viewColumns.length && sliceColumns.every((r, i) => r.c === viewColumns[i]!.c);
}

async function duckdbVersion(db: Db): Promise<string> {
  return String((await db.one<{ v: string }>(`SELECT version() AS v`))?.v ?? '');
}

/**
 * What the published warehouse says about how it was built: a reason to build in full (none when
 * an incremental build can patch it), its models and the DuckDB version running now. When it can
 * be patched, it is copied to `tmpPath` (cloned where the filesystem shares blocks: btrfs, XFS,
 * APFS) and the copy is returned open: the manifest is read from the copy, which saves opening
 * the published file as well. Otherwise no copy is left behind.
 */
async function previousBuild(
  finalPath: string,
  tmpPath: string,
  opts: { full: boolean; macrosSha: string; settings: Record<string, string> },
): Promise<PreviousBuild> {
  if (opts.full) return { fullReason: '--full' };
  if (!existsSync(finalPath)) return { fullReason: 'no previous warehouse' };
  let db: Db;
  try {
    await copyFile(finalPath, tmpPath, fsConstants.COPYFILE_FICLONE);
    db = await Db.open(tmpPath, { settings: opts.settings });
  } catch {
    await rm(tmpPath, { force: true });
    await rm(`${tmpPath}.wal`, { force: true });
    return { fullReason: 'the previous warehouse cannot be opened' };
  }
  let keep = false;
  try {
    const version = await duckdbVersion(db);
    const manifest = await readManifest(db);
    if (!manifest) return { fullReason: 'the previous warehouse has no build manifest', duckdbVersion: version };
    const g = manifest.global;
    const why =
      g.format !== MANIFEST_FORMAT
        ? `build manifest format ${g.format ?? '?'} (now ${MANIFEST_FORMAT})`
        : g.duckdb !== version
          ? `DuckDB version changed (${g.duckdb ?? '?'} -> ${version})`
          : g.macros !== opts.macrosSha
            ? 'macros changed'
            : undefined;
    if (why) return { fullReason: why, models: manifest.models, duckdbVersion: version };
    const prior: PreviousBuild = {
      db,
      models: manifest.models,
      duckdbVersion: version,
      files: await readManifestFiles(db),
      inputs: inputFingerprints(g),
      ...(g.cdrs_view !== undefined ? { cdrsView: g.cdrs_view } : {}),
    };
    keep = true;
    return prior;
  } finally {
    if (!keep) {
      db.close();
      await rm(tmpPath, { force: true });
      await rm(`${tmpPath}.wal`, { force: true });
    }
  }
}
