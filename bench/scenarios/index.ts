import type { Scenario } from '../lib/types.ts';
import { loadPath } from './load-path.ts';
import { extraction } from './extraction.ts';
import { faults } from './faults.ts';
import { memory } from './memory.ts';
import { reports } from './reports.ts';
import { analystQueries } from './analyst-queries.ts';
import { carrierImport } from './carrier-import.ts';
import { carrierMatch } from './carrier-match.ts';

/** Every scenario, in the order of the results table. */
export const SCENARIOS: readonly Scenario[] = [loadPath, extraction, faults, memory, reports, analystQueries, carrierImport, carrierMatch];
