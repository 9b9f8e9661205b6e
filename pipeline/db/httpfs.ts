/**
 * Whether DuckDB's `httpfs` extension (which reads s3:// and https:// URLs) can be loaded in this
 * process. It is not bundled with the DuckDB package: it is there only where someone installed it
 * (`INSTALL httpfs` with network access, or a copy in the extension directory). The check only
 * LOADs, with automatic install and autoload off, so it never downloads anything.
 */
import { Db } from './duckdb.ts';

export interface HttpfsCheck {
  available: boolean;
  /** Why not, in DuckDB's words (first line), when unavailable. */
  reason?: string;
}

const checks = new Map<string, Promise<HttpfsCheck>>();

/**
 * Loads httpfs in a throw-away in-memory database; the answer is kept for the process.
 * `extensionDirectory` overrides where DuckDB looks (default: its own, ~/.duckdb/extensions).
 */
export function detectHttpfs(opts: { extensionDirectory?: string } = {}): Promise<HttpfsCheck> {
  const key = opts.extensionDirectory ?? '';
  let check = checks.get(key);
  if (!check) {
    check = probe(opts.extensionDirectory);
    checks.set(key, check);
  }
  return check;
}

async function probe(extensionDirectory: string | undefined): Promise<HttpfsCheck> {
  const db = await Db.open(':memory:', {
    settings: {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      ...(extensionDirectory !== undefined ? { extension_directory: extensionDirectory } : {}),
    },
  });
  try {
    await db.run('LOAD httpfs');
    return { available: true };
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    return { available: false, reason: first };
  } finally {
    db.close();
  }
}
