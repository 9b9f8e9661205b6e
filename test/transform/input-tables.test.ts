import { describe, expect, it } from 'vitest';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { inputFingerprints, inputManifestEntries, loadInputTable, type InputReuse } from '../../pipeline/transform/input-tables.ts';
import type { TableShape } from '../../pipeline/transform/table-shape.ts';

const SHAPE: TableShape = {
  table: 't',
  columns: [
    ['k', 'VARCHAR'],
    ['v', 'INTEGER'],
  ],
  primaryKey: ['k'],
};

describe('input tables', () => {
  it('are created again only when their statement or rows differ from the build being patched', async () => {
    await withDb(':memory:', async (db) => {
      const first: InputReuse = { previous: new Map(), current: new Map() };
      await loadInputTable(db, SHAPE, [['a', 1]], first);
      const recorded = inputFingerprints(inputManifestEntries(first));
      expect([...recorded.keys()]).toEqual(['t']);
      // A row only a kept table still holds shows whether the table was created again.
      await db.run(`INSERT INTO t VALUES ('marker', 0)`);
      const same: InputReuse = { previous: recorded, current: new Map() };
      await loadInputTable(db, SHAPE, [['a', 1]], same);
      expect(await db.all(`SELECT k FROM t ORDER BY k`)).toEqual([{ k: 'a' }, { k: 'marker' }]);
      expect(same.current).toEqual(recorded);
      const changed: InputReuse = { previous: recorded, current: new Map() };
      await loadInputTable(db, SHAPE, [['a', 2]], changed);
      expect(await db.all(`SELECT k, v FROM t`)).toEqual([{ k: 'a', v: 2 }]);
      await loadInputTable(db, { ...SHAPE, columns: [SHAPE.columns[0]!, ['v', 'BIGINT']] }, [['a', 2]], {
        previous: changed.current,
        current: new Map(),
      });
      expect(await db.all(`SELECT data_type FROM duckdb_columns() WHERE table_name = 't' AND column_name = 'v'`)).toEqual([
        { data_type: 'BIGINT' },
      ]);
      // Without a previous build (a full build, or the rating of a reconcile) the table is always created.
      await db.run(`INSERT INTO t VALUES ('marker', 0)`);
      await loadInputTable(db, SHAPE, [['a', 2]], undefined);
      expect(await db.all(`SELECT k FROM t`)).toEqual([{ k: 'a' }]);
    });
  });
});
