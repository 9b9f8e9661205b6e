import { describe, expect, it } from 'vitest';
import { splitJsonArray } from '../../pipeline/source/json-array-split.ts';
import { Prng } from '../../pipeline/simulator/prng.ts';

const texts = (body: string) => {
  const s = splitJsonArray(body);
  return s && s.spans.flatMap((_, i) => (i % 2 === 0 ? [body.slice(s.spans[i], s.spans[i + 1])] : []));
};

describe('splitJsonArray', () => {
  it.each([
    ['[]', []],
    [' [ \n ] ', []],
    ['[{"a":1}]', ['{"a":1}']],
    ['[{"a":1},{"b":2}]', ['{"a":1}', '{"b":2}']],
    ['[ {"a": 1.50} ,\n\t{ "b" : "x" } ]', ['{"a": 1.50}', '{ "b" : "x" }']],
    // Boundaries inside strings and nested values are not boundaries.
    ['[{"a":"},{"},{"b":[{"x":1},{"y":"}"}]}]', ['{"a":"},{"}', '{"b":[{"x":1},{"y":"}"}]}']],
    ['[{"a":"\\"},{\\""},{"c":{"d":{}}}]', ['{"a":"\\"},{\\""}', '{"c":{"d":{}}}']],
    ['[{"a":"caf\u00e9 \\u00e9 😀"}]', ['{"a":"caf\u00e9 \\u00e9 😀"}']],
  ])('%j -> %j', (body, expected) => {
    expect(texts(body)).toEqual(expected);
  });

  it.each([
    '',
    '{"a":1}',
    '[{"a":1},2]',
    '[1]',
    '[{"a":1},]',
    '[{"a":1}{"b":2}]',
    '[{"a":1}',
    '[{"a":"}]',
    'null',
    '[{"a":1}] x',
    '[{"a":1},{"b":',
  ])('refuses %j (not an array of objects)', (body) => {
    expect(splitJsonArray(body)).toBeUndefined();
  });

  it('cuts random arrays of awkward objects exactly where JSON.parse says the elements are', () => {
    const rng = new Prng(7);
    const nasty = ['}', '},{', '}, {', '"', '\\', '{', ']', '[', ',', ' ', '\n', 'é', '😀', '\u2028', 'x'];
    const str = () => JSON.stringify(Array.from({ length: rng.int(0, 8) }, () => rng.pick(nasty)).join(''));
    const ws = () => rng.pick(['', '', ' ', '\n', '\t ', '\r\n']);
    const value = (depth: number): string => {
      const k = rng.int(0, depth > 2 ? 3 : 5);
      if (k === 0) return str();
      if (k === 1) return rng.pick(['1', '1.50', '-0', '1e3', 'true', 'null']);
      if (k === 2) return `[${ws()}${Array.from({ length: rng.int(0, 3) }, () => value(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
      if (k === 3) return rng.pick(['""', '"abc"']);
      return object(depth + 1);
    };
    const object = (depth: number): string =>
      `{${ws()}${Array.from({ length: rng.int(0, 4) }, () => `${str()}${ws()}:${ws()}${value(depth)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    for (let n = 0; n < 500; n++) {
      const elements = Array.from({ length: rng.int(0, 6) }, () => object(0));
      const body = `${ws()}[${ws()}${elements.join(`${ws()},${ws()}`)}${ws()}]${ws()}`;
      const got = splitJsonArray(body);
      expect(got, body).toBeDefined();
      expect(texts(body)).toEqual(elements);
      expect(got!.values).toEqual(JSON.parse(body));
    }
  });
});
