/** Command-line options of `npm run bench` (parsed without side effects so they are easy to check). */
export interface BenchArgs {
  /** Multiplies every scenario's default size. */
  scale: number;
  /** Scenario names to run; empty means all. */
  only: string[];
  /** Measured runs per figure after the warm-up. */
  runs: number;
  /** Where results.json is written. */
  out: string;
  /** Keep scratch directories for inspection. */
  keep: boolean;
  /** Use the full sizes instead of the reduced ones that fit a few minutes. */
  full: boolean;
  help: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [--scale N] [--full] [--only NAME[,NAME]] [--runs N] [--out FILE] [--keep]
  --scale N   multiply the default sizes; default 1
  --full      start from the full sizes (1M, 500k, 0.5M/2M, 2M CDRs) instead of the reduced
              defaults that keep a run within minutes on 2 cores; --full --scale 5 = the large sizes
  --only NAME run only these scenarios (repeatable or comma-separated)
  --runs N    measured runs per figure after one warm-up; default 3 (minimum 3)
  --out FILE  results file; default bench/results.json
  --keep      keep scratch directories under the OS temp dir`;

export function parseBenchArgs(argv: readonly string[], defaultOut: string): BenchArgs {
  const args: BenchArgs = { scale: 1, only: [], runs: 3, out: defaultOut, keep: false, full: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${BENCH_USAGE}`);
      return v;
    };
    switch (flag) {
      case '--scale': {
        const v = Number(value());
        if (!(v > 0) || !Number.isFinite(v)) throw new Error(`--scale must be a positive number, got ${JSON.stringify(argv[i])}`);
        args.scale = v;
        break;
      }
      case '--only':
        args.only.push(
          ...value()
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        break;
      case '--runs': {
        const v = Number(value());
        if (!Number.isInteger(v) || v < 3)
          throw new Error(`--runs must be an integer >= 3 (each figure is a median of at least 3 runs), got ${JSON.stringify(argv[i])}`);
        args.runs = v;
        break;
      }
      case '--out':
        args.out = value();
        break;
      case '--keep':
        args.keep = true;
        break;
      case '--full':
        args.full = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      case '--':
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(raw)}\n${BENCH_USAGE}`);
    }
  }
  return args;
}

/**
 * A whole-number option `--name N` of a stand-alone bench script (bench/load-path.ts,
 * bench/load-path-breakdown.ts), `fallback` when absent; anything but a whole number >= 1 is an
 * error, not a silent NaN.
 */
export function countArg(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number >= 1, got ${JSON.stringify(argv[i + 1] ?? '')}`);
  return v;
}
