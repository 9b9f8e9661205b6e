import { describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { buildModels } from '../../pipeline/transform/build-models.ts';
import { isRowOrderFree, ModelGraphError, orderModels } from '../../pipeline/transform/model-graph.ts';

const f = (name: string, sql: string) => ({ name, path: `${name}.sql`, sql });
const SETTING = `SELECT current_setting('preserve_insertion_order')::VARCHAR AS kept`;

describe('a model whose rows have no stored order', () => {
  it('is built with insertion order off, and only that model', async () => {
    const models = orderModels([
      f('before', `-- depends_on:\n${SETTING}`),
      f('matches', `-- depends_on: before\n-- row_order: any\n${SETTING} FROM before`),
      f('after', `-- depends_on: matches\n${SETTING} FROM matches`),
    ]);
    const db = await Db.open(':memory:');
    try {
      const plans = models.map((m) => ({ name: m.name, action: 'full' as const, reason: 'test' }));
      await buildModels(db, models, plans, { slice: undefined });
      const kept = async (t: string) => (await db.one<{ kept: string }>(`SELECT kept FROM ${t}`))?.kept;
      expect([await kept('before'), await kept('matches'), await kept('after')]).toEqual(['true', 'false', 'true']);
    } finally {
      db.close();
    }
  });

  it('reads the header, and refuses a value it does not know', () => {
    expect(isRowOrderFree(f('a', '-- depends_on:\n-- row_order: any\nSELECT 1'))).toBe(true);
    expect(isRowOrderFree(f('a', '-- depends_on:\nSELECT 1'))).toBe(false);
    expect(() => isRowOrderFree(f('a', '-- depends_on:\n-- row_order: sorted\nSELECT 1'))).toThrow(ModelGraphError);
  });
});
