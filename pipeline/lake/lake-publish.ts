/**
 * The lake writer's last step, wherever the lake lives. A local lake: fsync and rename(2). A lake
 * in a bucket (store/): the finished file is uploaded first, on the condition that the object is
 * still the version this write read (or absent, for a new one), and only then renamed over the
 * local copy, so a failed or refused upload leaves both the bucket and the copy as they were.
 */
import { rm } from 'node:fs/promises';
import { lakeStoreFor, type PublishMode } from '../store/index.ts';
import { publishFile } from '../util/atomic-file.ts';

/** Makes `tmp` the lake file `target`: `merge` for a partition rewritten from what was read, `create` for a new unique file, `replace` for a whole-file refresh. */
export async function publishLakeFile(
  dataDir: string,
  tmp: string,
  target: string,
  mode: PublishMode,
  signal?: AbortSignal,
): Promise<void> {
  const store = lakeStoreFor(dataDir);
  if (!store) return publishFile(tmp, target);
  await store.publish(tmp, target, mode, signal);
}

/** Removes the lake file `target` (and its object). */
export async function dropLakeFile(dataDir: string, target: string, signal?: AbortSignal): Promise<void> {
  const store = lakeStoreFor(dataDir);
  if (store) await store.drop(target, signal);
  else await rm(target, { force: true });
}

/** Before a write reads `target`: with the lake in a bucket, the local copy is brought up to the object's current version. */
export async function refreshLakeFile(dataDir: string, target: string, signal?: AbortSignal): Promise<void> {
  await lakeStoreFor(dataDir)?.refresh(target, signal);
}

/** Before a write reads the side files (domains, rejects): their copies are brought up to date. */
export async function refreshLakeSideFiles(dataDir: string, signal?: AbortSignal): Promise<void> {
  await lakeStoreFor(dataDir)?.pull({ months: [] }, signal ? { signal } : {});
}
