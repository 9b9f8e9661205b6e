import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

export type SqlParams = DuckDBValue[] | Record<string, DuckDBValue>;
/** A row as plain JSON-safe values (BIGINT and DECIMAL arrive as strings, timestamps as ISO text). */
export type JsonRow = Record<string, unknown>;

export interface OpenOptions {
  readOnly?: boolean;
  /** DuckDB settings applied at open, e.g. { threads: '2', memory_limit: '2GB' }. */
  settings?: Record<string, string>;
}

/**
 * A thin handle over one DuckDB database file (or ':memory:'): one instance, one connection,
 * the session time zone pinned to UTC so TIMESTAMPTZ text is unambiguous. Close it as soon as
 * the work is done: DuckDB lets one process at a time hold a file open for writing.
 */
export class Db {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    /** False for handles from connect(): closing them leaves the instance to its owner. */
    private readonly ownsInstance = true,
  ) {}

  static async open(path: string, opts: OpenOptions = {}): Promise<Db> {
    const options: Record<string, string> = { ...(opts.settings ?? {}) };
    if (opts.readOnly) options.access_mode = 'READ_ONLY';
    const instance = await DuckDBInstance.create(path, options);
    const connection = await instance.connect();
    const db = new Db(path, instance, connection);
    await db.run(`SET TimeZone = 'UTC'`);
    return db;
  }

  /**
   * Another connection to the same database: its own session (temp tables and macros, settings)
   * and its own statement in flight, so two statements can run side by side. Close it before
   * the handle it came from.
   */
  async connect(): Promise<Db> {
    const connection = await this.instance.connect();
    const db = new Db(this.path, this.instance, connection, false);
    await db.run(`SET TimeZone = 'UTC'`);
    return db;
  }

  async run(sql: string, params?: SqlParams): Promise<void> {
    await this.connection.run(sql, params);
  }

  /** Runs a multi-statement script (e.g. a .sql file). */
  async exec(script: string): Promise<void> {
    const statements = await this.connection.extractStatements(script);
    for (let i = 0; i < statements.count; i++) {
      const prepared = await statements.prepare(i);
      await prepared.run();
    }
  }

  async all<T extends JsonRow = JsonRow>(sql: string, params?: SqlParams): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJson() as T[];
  }

  /**
   * Rows as `all` gives them, handed to `onBatch` one batch (DuckDB's data chunk, about 2,048
   * rows) at a time while the result streams: a caller that keeps less than the rows holds no
   * more than one batch of them, however large the result.
   */
  async each<T extends JsonRow = JsonRow>(sql: string, params: SqlParams | undefined, onBatch: (rows: T[]) => void): Promise<void> {
    const result = await this.connection.stream(sql, params);
    for await (const rows of result.yieldRowObjectJson()) onBatch(rows as T[]);
  }

  async one<T extends JsonRow = JsonRow>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params);
    return rows[0];
  }

  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

/** Opens, runs `fn`, and always closes. */
export async function withDb<T>(path: string, fn: (db: Db) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  const db = await Db.open(path, opts);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** Quotes a string as a SQL literal. Prefer parameters; this is for paths in COPY/read_parquet. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quotes an identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * True for DuckDB's error when an operator cannot get memory under `memory_limit` (and cannot
 * spill): the statement failed as a whole and changed nothing, so it may be run again with more
 * room (alone, or after other work has finished).
 */
export function isOutOfMemoryError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('Out of Memory Error');
}
