import { describe, expect, it } from 'vitest';
import { inferDependencies, orderModels, stripCommentsAndStrings } from '../../pipeline/transform/model-graph.ts';
import { loadSqlDir } from '../../pipeline/transform/model-graph.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { parseRateDeck } from '../../pipeline/transform/rate-deck.ts';
import { readFile } from 'node:fs/promises';

const f = (name: string, sql: string) => ({ name, path: `${name}.sql`, sql });

describe('model graph', () => {
  it('infers dependencies from model names, ignoring comments, strings and longer names', () => {
    const names = ['calls', 'rated_calls', 'usage_monthly'];
    expect(inferDependencies(f('usage_monthly', `-- built from calls\nSELECT 'calls' AS x FROM rated_calls`), names)).toEqual(['rated_calls']);
    expect(inferDependencies(f('rated_calls', `SELECT * FROM calls c`), names)).toEqual(['calls']);
    expect(inferDependencies(f('x', `-- depends_on: calls\nSELECT 1`), [...names, 'x'])).toEqual(['calls']);
    expect(stripCommentsAndStrings(`a /* b */ 'it''s' -- c`).replace(/\s+/g, ' ').trim()).toBe("a ''");
  });

  it('orders models after their dependencies and names a cycle', () => {
    const order = orderModels([f('c', 'SELECT * FROM b'), f('b', 'SELECT * FROM a'), f('a', 'SELECT 1')]).map((m) => m.name);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(() => orderModels([f('a', 'SELECT * FROM b'), f('b', 'SELECT * FROM a')])).toThrow(/cycle: a -> b -> a/);
  });

  it('orders the real models with calls first and the aggregates after rated_calls', async () => {
    const order = orderModels(await loadSqlDir(resolveProjectPath('reports/models'))).map((m) => m.name);
    expect(order.indexOf('calls')).toBeLessThan(order.indexOf('rating_plans'));
    expect(order.indexOf('rating_plans')).toBeLessThan(order.indexOf('rated_calls'));
    for (const agg of ['usage_monthly', 'charges_by_class', 'usage_daily', 'usage_by_user', 'usage_by_number', 'top_destinations']) {
      expect(order.indexOf('rated_calls')).toBeLessThan(order.indexOf(agg));
    }
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
