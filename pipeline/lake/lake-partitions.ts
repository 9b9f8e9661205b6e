import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The hive partition values of a local lake now: months oldest first, domains (as in the path) sorted. */
export interface LakePartitions {
  months: string[];
  domains: string[];
}

function subdirs(dir: string, key: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name.startsWith(`${key}=`))
      .map((e) => e.name.slice(key.length + 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Lists `month=` and `domain=` directories under `<lake root>/cdrs` (an absent lake has none). */
export function listLakePartitions(lakeRoot: string): LakePartitions {
  const root = join(lakeRoot, 'cdrs');
  const months = subdirs(root, 'month')
    .filter((m) => /^\d{4}-\d{2}$/.test(m))
    .sort();
  const domains = new Set<string>();
  for (const m of months) for (const d of subdirs(`${root}/month=${m}`, 'domain')) domains.add(d);
  return { months, domains: [...domains].sort() };
}
