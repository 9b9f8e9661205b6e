import { describe, expect, it } from 'vitest';
import {
  checkedDependencies,
  loadSqlDir,
  ModelGraphError,
  orderModels,
  stripCommentsAndStrings,
  tablesRead,
} from '../../pipeline/transform/model-graph.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { parseRateDeck } from '../../pipeline/transform/rate-deck.ts';
import { readFile } from 'node:fs/promises';

const f = (name: string, sql: string) => ({ name, path: `${name}.sql`, sql });

describe('model graph', () => {
  const names = ['calls', 'rated_calls', 'usage_daily'];

  it('takes dependencies from the depends_on header, not from column names that match a model', () => {
    // usage_daily has a column named calls: that is no dependency on the calls model.
    const daily = f('usage_daily', `-- depends_on: rated_calls\nSELECT domain, count(*) AS calls FROM rated_calls GROUP BY domain`);
    expect(checkedDependencies(daily, names)).toEqual(['rated_calls']);
    const order = orderModels([
      daily,
      f('rated_calls', '-- depends_on: calls\nSELECT * FROM calls'),
      f('calls', '-- depends_on:\nSELECT * FROM cdrs'),
    ]);
    expect(order.map((m) => [m.name, m.dependsOn])).toEqual([
      ['calls', []],
      ['rated_calls', ['calls']],
      ['usage_daily', ['rated_calls']],
    ]);
  });

  it('finds the tables after FROM and JOIN, ignoring CTEs, table functions, comments and strings', () => {
    const sql = `-- depends_on: calls
      WITH rated_calls AS (SELECT * FROM calls), x AS MATERIALIZED (SELECT 1)
      SELECT 'FROM usage_daily', extract(hour FROM now()) -- JOIN usage_daily
      FROM rated_calls JOIN plans AS p ON true LEFT JOIN read_parquet('a') ON true, x`;
    expect(tablesRead(sql)).toEqual(['calls', 'plans']);
    expect(stripCommentsAndStrings(`a /* b */ 'it''s' -- c`).replace(/\s+/g, ' ').trim()).toBe("a ''");
  });

  it('fails, naming model and table, when a model reads a model it does not declare or declares one it does not read', () => {
    expect(() => checkedDependencies(f('usage_daily', '-- depends_on:\nSELECT * FROM rated_calls'), names)).toThrow(
      /model usage_daily \(usage_daily\.sql\) reads rated_calls but does not declare it/,
    );
    expect(() => checkedDependencies(f('usage_daily', '-- depends_on: calls, rated_calls\nSELECT * FROM rated_calls'), names)).toThrow(
      /model usage_daily \(usage_daily\.sql\) declares depends_on calls but does not read it/,
    );
    expect(() => checkedDependencies(f('usage_daily', 'SELECT * FROM rated_calls'), names)).toThrow(ModelGraphError);
    expect(() => checkedDependencies(f('usage_daily', '-- depends_on: nope\nSELECT 1'), names)).toThrow(/"nope", which is not a model/);
  });

  it('orders models after their dependencies and names a cycle', () => {
    const order = orderModels([
      f('c', '-- depends_on: b\nSELECT * FROM b'),
      f('b', '-- depends_on: a\nSELECT * FROM a'),
      f('a', '-- depends_on:\nSELECT 1'),
    ]).map((m) => m.name);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(() => orderModels([f('a', '-- depends_on: b\nSELECT * FROM b'), f('b', '-- depends_on: a\nSELECT * FROM a')])).toThrow(
      /cycle: a -> b -> a/,
    );
  });

  it('orders the real models with calls first and the aggregates after rated_calls; no false edges', async () => {
    const models = orderModels(await loadSqlDir(resolveProjectPath('reports/models')));
    const order = models.map((m) => m.name);
    expect(order.indexOf('calls')).toBeLessThan(order.indexOf('rating_plans'));
    expect(order.indexOf('rating_plans')).toBeLessThan(order.indexOf('rated_calls'));
    for (const agg of ['usage_monthly', 'charges_by_class', 'usage_daily', 'usage_by_user', 'usage_by_number', 'top_destinations']) {
      expect(order.indexOf('rated_calls')).toBeLessThan(order.indexOf(agg));
    }
    expect(models.find((m) => m.name === 'usage_daily')?.dependsOn).toEqual(['rated_calls']);
    expect(models.find((m) => m.name === 'calls')?.dependsOn).toEqual([]);
  });
});

describe('rate deck', () => {
  it('parses the shipped standard deck, with a mid-2026 price change', async () => {
    const rows = parseRateDeck(await readFile(resolveProjectPath('reports/rates/standard.csv'), 'utf8'));
    expect(rows.find((r) => r.prefix === '911')?.perMinute).toBe('0.000000');
    expect(rows.filter((r) => r.prefix === '+1').map((r) => [r.effectiveFrom, r.perMinute])).toEqual([
      ['2026-01-01', '0.012000'],
      ['2026-07-01', '0.011000'],
    ]);
    for (const tf of ['+1800', '+1888', '+1877', '+1866', '+1855', '+1844', '+1833']) expect(rows.some((r) => r.prefix === tf)).toBe(true);
  });

  it('names the line and column of a bad row', () => {
    const head = 'prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from\n';
    expect(() => parseRateDeck(head + '1800,x,0,6,6,0,0,2026-01-01\n', 'd.csv')).not.toThrow(); // a short code
    expect(() => parseRateDeck(head + '+1,x,0.1.2,6,6,0,0,2026-01-01\n', 'd.csv')).toThrow(/d\.csv line 2: per_minute/);
    expect(() => parseRateDeck(head + '+1,x,0.1,0,6,0,0,2026-01-01\n', 'd.csv')).toThrow(/initial_increment/);
    expect(() => parseRateDeck(head + '+1,x,0.1,6,6,0,0,2026-02-30\n', 'd.csv')).toThrow(/effective_from/);
    expect(() => parseRateDeck(head + '+1,x,0.1,6,6,0,0,2026-01-01\n+1,y,0.2,6,6,0,0,2026-01-01\n', 'd.csv')).toThrow(/twice/);
    expect(() => parseRateDeck('prefix,rate\n', 'd.csv')).toThrow(/header lacks/);
    expect(parseRateDeck(head + '+44,"UK, London",0.02,60,6,0,0,2026-01-01\n')[0]?.description).toBe('UK, London');
  });
});
