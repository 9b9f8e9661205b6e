import { join } from 'node:path';

/** The state database of a data directory: watermarks, run log, send log, anomalies. */
export const statePath = (dataDir: string) => join(dataDir, 'state.duckdb');
