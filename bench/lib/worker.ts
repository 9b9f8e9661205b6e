import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { V8_FLAGS } from '../../pipeline/config/process-flags.ts';

/**
 * A tiny request/response protocol over Node's IPC channel, so that the simulator and the
 * ingest under test run in their own processes: the simulator stands in for a remote PBX (it
 * must not steal the event loop of the code being timed) and an ingest's peak RSS is that of its
 * own process only.
 */

export type RpcRequest = { id: number; method: string; params: unknown };
export type RpcResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** A running worker process and a way to call its methods. */
export interface WorkerHandle {
  readonly pid: number;
  call<T>(method: string, params?: unknown): Promise<T>;
  /** Asks the worker to exit and waits for it (kills it after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** Workers that stand in for systems outside cdrpipe (the PBX, a mail relay): they run as plain Node. */
const STAND_INS = new Set(['simulator', 'smtp-sink']);

/**
 * Starts `bench/workers/<name>.ts` under tsx with an IPC channel. A worker that runs cdrpipe's
 * code starts with the V8 flags the installed `cdrpipe` starts with (config/process-flags.ts).
 */
export function startWorker(name: string, opts: { signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {}): Promise<WorkerHandle> {
  const script = fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));
  const child: ChildProcess = fork(script, [], {
    execArgv: [...(STAND_INS.has(name) ? [] : V8_FLAGS), '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  let exited: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, sig) => {
      exited = new Error(`bench worker ${name} (pid ${child.pid}) exited with ${sig ?? `code ${code}`}`);
      for (const p of pending.values()) p.reject(new Error(`${exited.message} while running ${p.method}`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (msg: RpcResponse | { ready: true }) => {
    if ('ready' in msg) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${name}.${p.method}: ${msg.error}`));
  });
  const onAbort = () => child.kill('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const handle: WorkerHandle = {
    get pid() {
      return child.pid ?? -1;
    },
    call<T>(method: string, params?: unknown): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
        child.send({ id, method, params } satisfies RpcRequest);
      });
    },
    async close(graceMs = 5000) {
      opts.signal?.removeEventListener('abort', onAbort);
      if (exited) return;
      child.send({ id: 0, method: '__exit', params: null } satisfies RpcRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    child.once('message', (msg: { ready?: boolean }) => {
      if (msg.ready) resolve(handle);
    });
    child.once('error', reject);
    void exitPromise.then(() => reject(exited));
  });
}

/**
 * The worker side: serves `handlers` until asked to exit. Errors travel back as messages with
 * their first line; the full stack goes to the worker's stderr.
 */
export function serveWorker(handlers: Record<string, (params: never) => Promise<unknown>>): void {
  if (!process.send) throw new Error('bench workers must be started by bench/lib/worker.ts (no IPC channel)');
  process.on('message', (msg: RpcRequest) => {
    if (msg.method === '__exit') {
      process.disconnect();
      // Let open handles (servers) be closed by the handlers; exit soon regardless.
      setTimeout(() => process.exit(0), 200).unref();
      return;
    }
    const handler = handlers[msg.method];
    const reply = (r: RpcResponse) => process.send!(r);
    if (!handler) {
      reply({ id: msg.id, ok: false, error: `unknown method ${msg.method}` });
      return;
    }
    handler(msg.params as never).then(
      (result) => reply({ id: msg.id, ok: true, result }),
      (err: unknown) => {
        process.stderr.write(`worker ${msg.method} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        reply({ id: msg.id, ok: false, error: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
      },
    );
  });
  process.send({ ready: true });
}

/** This process's peak resident set size in bytes (VmHWM; resourceUsage where /proc is absent). */
export async function peakRssBytes(): Promise<number> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile('/proc/self/status', 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}
