import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dropLakeFile, encodePartitionValue, lakeDir, publishLakeFile } from '../lake/index.ts';
import { asidePath } from '../util/atomic-file.ts';

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

/** Written aside, then published like any lake file (with the lake in a bucket, as an object too). */
export async function writeManifest(dataDir: string, m: ImportManifest): Promise<void> {
  const target = join(manifestDir(dataDir, m.carrier), `${m.sha256}.json`);
  await mkdir(manifestDir(dataDir, m.carrier), { recursive: true });
  const tmp = asidePath(target);
  await writeFile(tmp, JSON.stringify(m, null, 2) + '\n');
  await publishLakeFile(dataDir, tmp, target, 'replace');
}

export async function removeManifest(dataDir: string, carrier: string, sha256: string): Promise<void> {
  await dropLakeFile(dataDir, join(manifestDir(dataDir, carrier), `${sha256}.json`));
}
