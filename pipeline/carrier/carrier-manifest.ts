import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePartitionValue, lakeDir } from '../lake/index.ts';
import { removeQuietly, writeFileAtomic } from '../util/atomic-file.ts';

/**
 * What one imported carrier file left in the lake, written last (after its Parquet files are in
 * place): its presence is what makes the same bytes "already imported", and its `replaces` list
 * lets a re-run finish removing the files a correction replaced.
 */
export interface ImportManifest {
  carrier: string;
  sha256: string;
  fileName: string;
  months: string[];
  loaded: number;
  rejected: number;
  skipped: number;
  importedAt: string;
  /** Files (by hash) whose rows this one replaces. */
  replaces: string[];
}

/** lake/carrier_imports/carrier=<name>: one <sha256>.json per imported file. */
export const manifestDir = (dataDir: string, carrier: string) =>
  join(lakeDir(dataDir), 'carrier_imports', `carrier=${encodePartitionValue(carrier)}`);

export async function readManifests(dataDir: string, carrier: string): Promise<ImportManifest[]> {
  const dir = manifestDir(dataDir, carrier);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: ImportManifest[] = [];
  for (const n of names.filter((x) => /^[0-9a-f]{64}\.json$/.test(x)).sort()) {
    out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as ImportManifest);
  }
  return out;
}

export async function writeManifest(dataDir: string, m: ImportManifest): Promise<void> {
  await writeFileAtomic(join(manifestDir(dataDir, m.carrier), `${m.sha256}.json`), JSON.stringify(m, null, 2) + '\n');
}

export async function removeManifest(dataDir: string, carrier: string, sha256: string): Promise<void> {
  await removeQuietly(join(manifestDir(dataDir, carrier), `${sha256}.json`));
}
