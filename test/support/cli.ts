/** Starts the installed entry point (bin/cdrpipe.js) as a child process, as an operator would. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { projectRoot } from '../../pipeline/config/load-config.ts';
import { lakeEnvFor } from './test-lake.ts';

/** The package's `bin` entry. */
export const CLI_ENTRY = join(projectRoot, 'bin', 'cdrpipe.js');

export interface CliOptions {
  /** Added to the cleaned environment of this process. */
  env?: Record<string, string>;
  /** Working directory; default: the project root. */
  cwd?: string;
  /** Kill the child (SIGKILL) after this many ms; default: never. */
  timeout?: number;
  /** Run as this user (and group): root ignores file modes, an unprivileged user does not. */
  uid?: number;
  /** Shell commands run before the CLI in the same process (e.g. `ulimit -f 8`). */
  shellPrefix?: string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr in the order they arrived. */
  output: string;
}

export interface SpawnedCli {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything written so far, stdout and stderr together. */
  output(): string;
  stdout(): string;
  stderr(): string;
}

/**
 * The environment a CLI child gets: this process's, without anything that would point it at a
 * real PBX, mail server, config or data directory, plus `extra`.
 */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^NS_/.test(k) || ['SMTP_URL', 'MAIL_FROM', 'CDRPIPE_CONFIG', 'CDRPIPE_DATA_DIR', 'CDRPIPE_LAKE_URL'].includes(k)) continue;
    env[k] = v;
  }
  // Under `npm run test:s3` the child's lake is in the bucket, like the in-process stages' (unless the test chose one).
  const lake = extra.CDRPIPE_LAKE_URL === undefined ? lakeEnvFor(extra.CDRPIPE_DATA_DIR) : {};
  return { ...env, ...lake, ...extra };
}

/** Starts `cdrpipe <args>` and returns at once; see runCli to wait for the end. */
export function spawnCli(args: readonly string[], opts: CliOptions = {}): SpawnedCli {
  const node = [process.execPath, CLI_ENTRY, ...args];
  // `exec "$0" "$@"` hands the shell's process (and its limits) to node.
  const [cmd, argv] = opts.shellPrefix ? ['/bin/sh', ['-c', `${opts.shellPrefix}\nexec "$0" "$@"`, ...node]] : [node[0]!, node.slice(1)];
  const child = spawn(cmd, argv, {
    cwd: opts.cwd ?? projectRoot,
    env: cliEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
    output += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    output += b.toString();
  });
  const timer = opts.timeout !== undefined ? setTimeout(() => child.kill('SIGKILL'), opts.timeout) : undefined;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after both pipes are drained: the output is complete by then.
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  const exited = closed.then((c) => c.code);
  return { child, exited, output: () => output, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `cdrpipe <args>` to its end. */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const run = spawnCli(args, opts);
  const code = await run.exited;
  return { code, signal: run.child.signalCode, stdout: run.stdout(), stderr: run.stderr(), output: run.output() };
}
