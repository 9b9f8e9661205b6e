/**
 * The carrier-reconcile job: imports every file waiting in a carrier's inbox folder
 * (`carriers.<name>.inbox`), moves it aside (`processed/`, or `failed/` when the import refused
 * it), then reconciles each UTC month those files touched. With `previousMonth`, it reconciles the
 * previous UTC month of every carrier instead (the monthly run), whatever the inboxes hold.
 */
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageContext } from '../config/index.ts';
import { addMonths, utcMonthOf } from '../util/month.ts';
import { importCarrierFile } from './carrier-import.ts';
import { resolveCarrier } from './carrier-settings.ts';
import { rebuildWarehouse, runCarrierReconcile } from './reconcile-run.ts';
import type { CarrierReconcileResult } from './reconcile-types.ts';

export interface CarrierInboxOptions extends StageContext {
  /** Only this carrier's inbox (and months). */
  carrier?: string;
  /** Reconcile the previous UTC month of every carrier with an inbox or records, not the inbox's months. */
  previousMonth?: boolean;
}

export interface CarrierInboxResult {
  /** Files imported, per carrier, and where each went. */
  imported: { carrier: string; file: string; movedTo: string; months: string[]; loaded: number; rejected: number; unchanged: boolean }[];
  /** Files the import refused (bad header, empty), moved to failed/. */
  failed: { carrier: string; file: string; movedTo: string; error: string }[];
  reconciled: CarrierReconcileResult[];
  /** True when some carrier is beyond its dispute thresholds. */
  overThresholds: boolean;
}

/** Waiting files: regular, not hidden, not partial uploads (`.part`, `.tmp`), oldest first. */
async function waitingFiles(inbox: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(inbox);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: { path: string; mtime: number }[] = [];
  for (const name of names) {
    if (name.startsWith('.') || /\.(part|tmp|partial)$/i.test(name)) continue;
    const path = join(inbox, name);
    const st = await stat(path).catch(() => undefined);
    if (st?.isFile()) files.push({ path, mtime: st.mtimeMs });
  }
  return files.sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path)).map((f) => f.path);
}

/** Moves `file` into `<inbox>/<folder>/`, stamped with the time so a second file of the same name keeps both. */
async function moveAside(inbox: string, file: string, folder: 'processed' | 'failed', now: Date): Promise<string> {
  const dir = join(inbox, folder);
  await mkdir(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = join(dir, `${stamp}-${file.slice(inbox.length + 1)}`);
  await rename(file, target);
  return target;
}

/** Runs the job once: import what is waiting, move it aside, reconcile what it touched. */
export async function runCarrierInbox(opts: CarrierInboxOptions): Promise<CarrierInboxResult> {
  const { config, logger, clock } = opts;
  const names = opts.carrier !== undefined ? [opts.carrier] : Object.keys(config.carriers).sort();
  const imported: CarrierInboxResult['imported'] = [];
  const failed: CarrierInboxResult['failed'] = [];
  const touched = new Map<string, Set<string>>();
  for (const name of names) {
    const inbox = resolveCarrier(config, name).inbox;
    if (inbox === undefined) continue;
    for (const file of await waitingFiles(inbox)) {
      opts.signal?.throwIfAborted();
      try {
        const r = await importCarrierFile({ ...opts, file, carrier: name });
        const movedTo = await moveAside(inbox, file, 'processed', clock.now());
        imported.push({ carrier: name, file, movedTo, months: r.months, loaded: r.loaded, rejected: r.rejected, unchanged: r.unchanged });
        const months = touched.get(name) ?? new Set<string>();
        for (const m of r.months) months.add(m);
        touched.set(name, months);
      } catch (err) {
        const movedTo = await moveAside(inbox, file, 'failed', clock.now());
        const error = err instanceof Error ? err.message : String(err);
        failed.push({ carrier: name, file, movedTo, error });
        logger.error({ carrier: name, file, movedTo, err: error }, 'carrier file refused; moved to failed/');
      }
    }
  }
  // What to reconcile: each touched (carrier, month); the monthly run adds the previous UTC month
  // of every carrier with records (or of the one carrier asked for).
  const runs: { carrier?: string; month: string }[] = [];
  for (const [carrier, months] of [...touched.entries()].sort(([a], [b]) => a.localeCompare(b)))
    for (const month of [...months].sort()) runs.push({ carrier, month });
  if (opts.previousMonth) {
    const month = addMonths(utcMonthOf(clock.now()), -1);
    runs.push(opts.carrier !== undefined ? { carrier: opts.carrier, month } : { month });
  }
  const reconciled: CarrierReconcileResult[] = [];
  if (runs.length > 0) {
    await rebuildWarehouse(opts);
    for (const run of runs) {
      reconciled.push(
        await runCarrierReconcile({
          ...opts,
          month: run.month,
          ...(run.carrier !== undefined ? { carrier: run.carrier } : {}),
          transform: false,
        }),
      );
    }
  }
  return { imported, failed, reconciled, overThresholds: reconciled.some((r) => !r.ok) };
}
