import type { Scenario } from '../lib/types.ts';
import { loadPath } from './load-path.ts';
import { extraction } from './extraction.ts';
import { faults } from './faults.ts';
import { memory } from './memory.ts';
import { reports } from './reports.ts';
import { analystQueries } from './analyst-queries.ts';
import { lakeCompact } from './lake-compact.ts';
import { resellerTick } from './reseller-tick.ts';
import { alerts } from './alerts.ts';
import { incrementalTransform } from './incremental-transform.ts';
import { carrierImport } from './carrier-import.ts';
import { carrierMatch } from './carrier-match.ts';

/** Every scenario, in the order of the results table. */
export const SCENARIOS: readonly Scenario[] = [
  loadPath,
  extraction,
  faults,
  memory,
  reports,
  analystQueries,
  incrementalTransform,
  lakeCompact,
  resellerTick,
  alerts,
  carrierImport,
  carrierMatch,
];
