import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { buildModels } from '../../pipeline/transform/build-models.ts';
import { loadSqlDir, orderModels } from '../../pipeline/transform/model-graph.ts';
import { tempDir } from '../support/temp-dir.ts';

const MODELS_DIR = 'reports/models';
/** Outbound calls, each to its own destination, over 10 domains: 30,000 destinations per domain-month. */
const CALLS = 300_000;
/**
 * Far below what those calls' groups take in memory. A model whose grouping keeps text in its
 * aggregate state (any_value over VARCHAR) cannot spill and runs out at this size (measured: 40 MiB
 * at 300k calls, 48 MiB at 400k); one that spills builds here at any size.
 */
const MEMORY_LIMIT = '40MiB';

describe('models over rated_calls on a memory limit far below their data', () => {
  it('spill to disk and build, top_destinations with its labels', async () => {
    const dir = await tempDir('cdrpipe-spill-');
    const schema = JSON.parse(await readFile(join(MODELS_DIR, 'rated_calls.schema.json'), 'utf8')) as {
      columns: { name: string; type: string }[];
    };
    const models = orderModels(await loadSqlDir(MODELS_DIR)).filter((m) => m.dependsOn.length === 1 && m.dependsOn[0] === 'rated_calls');
    expect(models.map((m) => m.name)).toContain('top_destinations');
    const db = await Db.open(join(dir, 'warehouse.duckdb'), { settings: { threads: '1', temp_directory: join(dir, 'spill') } });
    try {
      await db.run(`CREATE TABLE rated_calls (${schema.columns.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
      await db.run(
        `INSERT INTO rated_calls BY NAME
         SELECT 'd' || (i % 10) || '.spill.example' AS domain, 'id' || i AS id, '2026-10' AS local_month, 'outbound' AS direction,
           true AS billable, i % 3 > 0 AS answered, '+1555' || lpad(i::VARCHAR, 8, '0') AS remote_number,
           'international' AS call_class, 'Destination rate number ' || (i % 997) AS rate_description,
           (i % 300)::INTEGER AS talk_s, (i % 300)::INTEGER AS billable_s, ((i % 1000) / 1000)::DECIMAL(18, 6) AS charge
         FROM range(${CALLS}) AS t(i)`,
      );
      await db.run(`SET memory_limit = '${MEMORY_LIMIT}'`);
      const plans = models.map((m) => ({ name: m.name, action: 'full' as const, reason: 'test' }));
      const { builds } = await buildModels(db, models, plans, { slice: undefined });
      expect(builds.find((b) => b.name === 'top_destinations')?.rows).toBe(10 * 100);
      // Charge 0.990 tops d0, then the most talk (290 s), then the destination; the labels are the destination's own.
      const top = await db.all(
        `SELECT domain, destination, rate_description, calls, rank FROM top_destinations WHERE domain = 'd0.spill.example' AND rank <= 2 ORDER BY rank`,
      );
      expect(top).toEqual([
        { domain: 'd0.spill.example', destination: '+155500002990', rate_description: 'Destination rate number 996', calls: 1, rank: 1 },
        { domain: 'd0.spill.example', destination: '+155500005990', rate_description: 'Destination rate number 8', calls: 1, rank: 2 },
      ]);
    } finally {
      db.close();
    }
  });
});
