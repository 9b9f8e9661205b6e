import { describe, expect, it } from 'vitest';
import { duckdbSizeMiB } from '../../pipeline/db/duckdb-size.ts';

describe('duckdbSizeMiB', () => {
  it('reads the sizes DuckDB accepts: decimal and binary units, any case', () => {
    expect(duckdbSizeMiB('126MiB')).toBe(126);
    expect(duckdbSizeMiB('2GiB')).toBe(2048);
    expect(duckdbSizeMiB('256MB')).toBeCloseTo(244.14, 2);
    expect(duckdbSizeMiB('1.5gb')).toBeCloseTo(1430.51, 2);
    expect(duckdbSizeMiB('1048576 bytes')).toBe(1);
  });

  it('refuses anything else, naming the value', () => {
    expect(() => duckdbSizeMiB('lots')).toThrow('not a DuckDB memory size: "lots"');
    expect(() => duckdbSizeMiB('80%')).toThrow(/80%/);
  });
});
