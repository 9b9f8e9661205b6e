/**
 * The rule files: reports/alerts/<rule>.sql, one SELECT each, one row per finding. The file name
 * without `.sql` is the rule's name and its key under `alerts.rules` in jobs.config.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { resolveProjectPath } from '../config/index.ts';

export interface SqlText {
  name: string;
  path: string;
  sql: string;
}

/** Where the rules live. */
export const ALERT_RULES_DIR = (): string => resolveProjectPath('reports/alerts');
/** Where the rules' macros live (loaded after billing's reports/macros). */
export const ALERT_MACROS_DIR = (): string => resolveProjectPath('reports/alerts/macros');
/** Billing's macros (number handling, money), which the rules use too. */
export const BILLING_MACROS_DIR = (): string => resolveProjectPath('reports/macros');

/** Every *.sql in `dir` (not recursive), sorted by name; none when the folder does not exist. */
export async function readSqlFiles(dir: string): Promise<SqlText[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return Promise.all(
    entries
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map(async (f) => ({ name: basename(f, '.sql'), path: join(dir, f), sql: await readFile(join(dir, f), 'utf8') })),
  );
}

/** The columns every rule returns, in this order (extra columns are ignored). */
export const FINDING_COLUMNS = [
  'domain',
  'key',
  'window_start',
  'window_end',
  'severity',
  'calls',
  'amount',
  'estimated',
  'message',
  'evidence',
] as const;
