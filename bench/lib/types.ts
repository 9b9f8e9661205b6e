/**
 * Shapes shared by the benchmark harness and its scenarios. A scenario measures, the harness
 * prints and records; nothing here is part of the pipeline itself.
 */

/** One line of the results table and of bench/results.json. */
export interface BenchRow {
  /** Scenario name as given to `--only`, e.g. `load-path`. */
  scenario: string;
  /** What was measured, e.g. `pipeline / duckdb time`. */
  name: string;
  /** The median over the measured runs; null when the scenario was skipped or failed. */
  value: number | null;
  unit: string;
  /**
   * The figure compared against its target: a side-by-side ratio (a/b) for relative targets,
   * value / limit for absolute ones; null for informational figures.
   */
  ratio: number | null;
  /** Human-readable target, e.g. `<= 1.25`; null when the figure has none. */
  target: string | null;
  /** Whether the target was met; null when there is no target or nothing was measured. */
  pass: boolean | null;
  /** Why a figure is missing, or how it was obtained (e.g. `extrapolated from 8 domains`). */
  note?: string;
}

/** A target on a ratio: `ratio <= limit` (or `<` when strict). */
export interface Target {
  limit: number;
  strict?: boolean;
}

/** What every scenario gets from the harness. */
export interface BenchContext {
  /** Multiplies the default sizes. */
  scale: number;
  /** Start from the full sizes rather than the reduced defaults. */
  full: boolean;
  /** Measured runs per figure (after one warm-up); at least 3. */
  runs: number;
  /** A scratch directory for this scenario, removed afterwards unless --keep. */
  workDir: string;
  /** Where generated inputs may be cached between bench invocations. */
  cacheDir: string;
  /** Progress lines for the operator (stderr); never part of the results. */
  log: (line: string) => void;
  signal: AbortSignal;
}

/** What a scenario returns: its rows, or why it could not run. */
export type ScenarioOutcome = { status: 'ok'; rows: BenchRow[]; notes?: string[] } | { status: 'skipped'; reason: string };

/** One benchmark scenario, one module under bench/scenarios/. */
export interface Scenario {
  /** Short kebab-case name used by `--only`. */
  name: string;
  /** One line saying what is compared with what. */
  title: string;
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}

/** The machine a run came from (results depend on it). */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  duckdb: string;
  os: string;
  date: string;
}

/** The whole of bench/results.json. */
export interface BenchReport {
  command: string;
  scale: number;
  full: boolean;
  runs: number;
  machine: MachineInfo;
  startedAt: string;
  finishedAt: string;
  results: BenchRow[];
  notes: string[];
}
