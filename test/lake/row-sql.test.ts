import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { partitionDir } from '../../pipeline/lake/layout.ts';
import { LakeWriter, PARTITION_FILE } from '../../pipeline/lake/lake-writer.ts';
import { DATETIME_FIELDS, INTEGER_FIELDS, TEXT_FIELDS, isPlainRecord } from '../../pipeline/lake/plain-record.ts';
import { RECORD_SEPARATOR, isPlainSpoolFile, spoolFileName } from '../../pipeline/lake/spool-format.ts';
import { cdrRowsSql } from '../../pipeline/lake/row-sql.ts';
import { LAKE_COLUMNS } from '../../pipeline/lake/lake-columns.ts';
import { EMPTY_CDRS_SELECT } from '../../pipeline/transform/lake-views.ts';
import { Prng } from '../../pipeline/simulator/prng.ts';

/**
 * The lake writer has two forms of row SQL (lake/row-sql.ts): general for any spelling of a
 * record, and plain, cheaper, for files whose records are all plain (isPlainRecord). Here both
 * load the same generated records, in every spelling the API and its hostile cousins use, and
 * must agree on every plain record; on the others they must not (or the test proves nothing).
 */

// Field values as JSON text, so spellings JSON.stringify never writes (25.0, 1e3) occur too.
const TEXT_SPELLINGS = [
  'null',
  '""',
  '"abc"',
  '" abc"',
  '"abc "',
  '"  "',
  '12345',
  '"José Ñúñez"',
  '"tab\\tinside"',
  '"\\t lead tab"',
  'true',
  '"<b>x</b>"',
];
const INT_SPELLINGS = [
  'null',
  '25',
  '0',
  '-3',
  '25.0',
  '1e3',
  '25.5',
  '"25"',
  '"0"',
  '"007"',
  '"-12"',
  '"-0"',
  '" 25 "',
  '"25.0"',
  '"4e1"',
  '2147483648',
  '"abc"',
  '2147483647',
  '"1234567890"',
  '""',
];
const DATETIME_SPELLINGS = [
  'null',
  '""',
  '"2026-10-03T00:58:35Z"',
  '"2026-10-03 00:58:35"',
  '"2026-10-03T00:58:35-08:00"',
  '"2026-10-03T00:58:35.123Z"',
  '"2026-10-03T00:58:35.1234567Z"',
  '"2026-10-03t00:58:35z"',
  '"2026-10-03T00:58:35-08:00[US/Pacific]"',
  '"2026-10-03T00:58:35[America/New_York]"',
  '"2026-10-03T00:58"',
  '"0000-00-00 00:00:00"',
  '"2026-02-30T00:00:00Z"',
  '"2026-10-03T24:00:00Z"',
  '"2026-10-03T00:58:35+0530"',
  '"2026-10-03 00:58:35 +02:00"',
  '12345',
  '" 2026-10-03T00:58:35Z"',
];
const START_SPELLINGS = [
  '"2026-10-03T00:58:35Z"',
  '"2026-10-03 01:00:00"',
  '"2026-10-03T00:58:35+02:00"',
  '"2026-10-05T10:00:00.5Z"',
  '"2026-10-03T00:58:35-08:00[US/Pacific]"',
  '"2026-10-04T08:00:00[Europe/Paris]"',
  '"2026-10-03t00:58:35Z"',
];
const DIRECTION_SPELLINGS = ['0', '1', '2', '3', '"0"', '"3"', '1.0', '" 2"'];

// The spellings a plain record may use (the first of each list above that qualify).
const PLAIN_TEXT = TEXT_SPELLINGS.filter((t) => !/^" |[^\\] "$/.test(t));
const PLAIN_INT = ['null', '25', '0', '-3', '25.0', '1e3', '2147483647', '"25"', '"0"', '"007"', '"-12"', '"-0"'];
const PLAIN_DATETIME = DATETIME_SPELLINGS.filter(
  (t) => t === 'null' || t === '""' || /^"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?"$/.test(t),
);

/** One record's JSON text; `hostile` is the chance each field takes any spelling rather than a plain one. */
function recordText(rng: Prng, n: number, hostile: number): string {
  const pick = (any: readonly string[], plain: readonly string[]) => rng.pick(rng.chance(hostile) ? any : plain);
  const fields: string[] = [];
  fields.push(`"id":${pick([`"r${n}"`, `${100000 + n}`, `" r${n} "`, `"r${n} "`], [`"r${n}"`, `${100000 + n}`])}`);
  for (const f of TEXT_FIELDS) if (f !== 'id' && rng.chance(0.85)) fields.push(`${JSON.stringify(f)}:${pick(TEXT_SPELLINGS, PLAIN_TEXT)}`);
  for (const f of INTEGER_FIELDS) if (rng.chance(0.9)) fields.push(`${JSON.stringify(f)}:${pick(INT_SPELLINGS, PLAIN_INT)}`);
  for (const f of DATETIME_FIELDS) {
    if (f === 'call-start-datetime') fields.push(`"call-start-datetime":${pick(START_SPELLINGS, START_SPELLINGS.slice(0, 4))}`);
    else if (rng.chance(0.9)) fields.push(`${JSON.stringify(f)}:${pick(DATETIME_SPELLINGS, PLAIN_DATETIME)}`);
  }
  fields.push(`"call-direction":${rng.pick(DIRECTION_SPELLINGS)}`);
  fields.push(`"core-server":"core1.example"`);
  return `{${fields.join(',')}}`;
}

let dir: string;
let writer: LakeWriter;
let plainTexts: string[];
let otherTexts: string[];

beforeAll(async () => {
  dir = await tempDir('cdrpipe-row-sql-');
  writer = await LakeWriter.open(dir, { workDir: join(dir, 'work') });
  const rng = new Prng(20261127);
  plainTexts = [];
  otherTexts = [];
  for (let n = 0; n < 4000; n++) {
    const text = recordText(rng, n, rng.pick([0, 0.02, 0.3]));
    (isPlainRecord(JSON.parse(text) as Record<string, unknown>) ? plainTexts : otherTexts).push(text);
  }
});
afterAll(async () => {
  await writer.close();
});

const OCT = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') };

/** Loads `texts` as one spool file (records separated by RS) into partition (2026-10, domain) and returns its rows, keyed by id. */
async function load(domain: string, texts: readonly string[], plainName: boolean): Promise<Map<string, string>> {
  const file = join(dir, 'work', spoolFileName(domain.length * 1000 + texts.length, plainName));
  await writeFile(file, texts.join(RECORD_SEPARATOR));
  await writer.writePartition({
    domain,
    month: '2026-10',
    range: OCT,
    files: [file],
    ingestedAt: new Date('2026-11-02T00:00:00Z'),
    duplicateIds: [],
  });
  const db = await Db.open(':memory:');
  try {
    const path = join(partitionDir(dir, '2026-10', domain), PARTITION_FILE);
    const rows = await db.all<{ id: string; row: string }>(
      `SELECT id, to_json(t)::VARCHAR AS row FROM read_parquet(${sqlString(path)}, hive_partitioning = false) t`,
    );
    return new Map(rows.map((r) => [r.id, r.row]));
  } finally {
    db.close();
  }
}

function differing(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const id of new Set([...a.keys(), ...b.keys()])) if (a.get(id) !== b.get(id)) out.push(`${id}: ${a.get(id)} vs ${b.get(id)}`);
  return out;
}

describe('the plain row SQL', () => {
  it('gives the rows of the general SQL for every plain record, in every spelling a plain record may have', async () => {
    expect(plainTexts.length).toBeGreaterThan(300);
    const plain = await load('plain-sql.example', plainTexts, true);
    const general = await load('general-sql.example', plainTexts, false);
    expect(plain.size).toBeGreaterThan(300);
    expect(differing(plain, general)).toEqual([]);
  });

  it('is not used for records that are not plain: there the two SQL files disagree', async () => {
    expect(otherTexts.length).toBeGreaterThan(1000);
    const forced = await load('forced-plain.example', otherTexts, true);
    const general = await load('general-only.example', otherTexts, false);
    // Padded ids, numbers as text, zones in brackets: the plain SQL would get these wrong.
    expect(differing(forced, general).length).toBeGreaterThan(500);
  });

  it('is chosen only when every file of a write is named plain', async () => {
    const sample = otherTexts.filter((t) => t.includes('" r')).slice(0, 20); // padded ids: trimmed only by the general SQL
    expect(sample.length).toBe(20);
    const a = join(dir, 'work', spoolFileName(900001, true));
    const b = join(dir, 'work', spoolFileName(900002, false));
    await writeFile(a, plainTexts.slice(0, 20).join(RECORD_SEPARATOR));
    await writeFile(b, sample.join(RECORD_SEPARATOR));
    await writer.writePartition({
      domain: 'mixed.example',
      month: '2026-10',
      range: OCT,
      files: [a, b],
      ingestedAt: new Date(),
      duplicateIds: [],
    });
    const db = await Db.open(':memory:');
    try {
      const path = join(partitionDir(dir, '2026-10', 'mixed.example'), PARTITION_FILE);
      const padded = await db.all(`SELECT id FROM read_parquet(${sqlString(path)}) WHERE id LIKE ' %' OR id LIKE '% '`);
      expect(padded).toEqual([]);
    } finally {
      db.close();
    }
  });
});

describe('the lake writer and foreign files', () => {
  it('refuses a file that is not a spool file instead of loading nothing from it', async () => {
    const page = join(dir, 'work', '77.json');
    await writeFile(page, `[${plainTexts[0]}]`);
    await expect(
      writer.writePartition({
        domain: 'foreign.example',
        month: '2026-10',
        range: OCT,
        files: [page],
        ingestedAt: new Date(),
        duplicateIds: [],
      }),
    ).rejects.toThrow(/77\.json, which is not a spool file/);
  });
});

describe('isPlainRecord', () => {
  const base = { id: 'r1', 'call-start-datetime': '2026-10-03T00:58:35Z', 'call-total-duration-seconds': 25, 'call-direction': 1 };
  it.each([
    [{}, true],
    [{ 'call-orig-user': '' }, true],
    [{ 'call-orig-user': 1001 }, true],
    [{ 'call-answer-datetime': null, 'call-ringing-datetime': '' }, true],
    [{ 'call-start-datetime': '2026-10-03 00:58:35' }, true],
    [{ 'call-start-datetime': '2026-10-03T00:58:35.250-08:00' }, true],
    [{ 'call-direction': '1' }, true],
    [{ id: ' r1' }, false],
    [{ 'call-orig-from-name': 'Lee ' }, false],
    [{ 'call-total-duration-seconds': '25' }, true],
    [{ 'call-total-duration-seconds': '25.0' }, false],
    [{ 'call-total-duration-seconds': 25.5 }, false],
    [{ 'call-talking-duration-seconds': 2 ** 31 }, false],
    [{ 'call-start-datetime': '2026-10-03T00:58:35-08:00[US/Pacific]' }, false],
    [{ 'call-answer-datetime': '2026-10-03t00:58:35z' }, false],
    [{ 'call-disconnect-datetime': 1760000000 }, false],
  ] as const)('%j -> %s', (extra, expected) => {
    expect(isPlainRecord({ ...base, ...extra })).toBe(expected);
  });
});

describe('isPlainRecord, field by field', () => {
  const plain = { id: 'r1', 'call-start-datetime': '2026-10-03T00:58:35Z', 'call-total-duration-seconds': 25, 'call-direction': 1 };
  // Each field of the lists, spelt the one way the plain SQL would get wrong: the function reads every one.
  it.each([
    ...TEXT_FIELDS.map((f) => [f, ' padded'] as const),
    ...INTEGER_FIELDS.map((f) => [f, '4.5'] as const),
    ...DATETIME_FIELDS.map((f) => [f, '2026-10-03T00:58:35-08:00[US/Pacific]'] as const),
  ])('%s: %j is not plain', (field, value) => {
    expect(isPlainRecord(plain)).toBe(true);
    expect(isPlainRecord({ ...plain, [field]: value })).toBe(false);
  });
});

describe('spool file names', () => {
  it('say whether a file is plain', () => {
    expect(spoolFileName(7, true)).toBe('7.plain.jsonrs');
    expect(spoolFileName(7, false)).toBe('7.jsonrs');
    expect(isPlainSpoolFile('/x/7.plain.jsonrs')).toBe(true);
    expect(isPlainSpoolFile('/x/7.jsonrs')).toBe(false);
  });
});

describe('the two row SQL files', () => {
  const schemaOf = (sql: string): Record<string, string> => {
    const m = /from_json\(json, '(\{[^']*\})'\)/.exec(sql);
    if (!m) throw new Error('no from_json schema found');
    return JSON.parse(m[1]!) as Record<string, string>;
  };
  it('read the same fields, typed as lake/plain-record.ts says', () => {
    const general = schemaOf(cdrRowsSql('general'));
    const plain = schemaOf(cdrRowsSql('plain'));
    expect(Object.keys(plain).sort()).toEqual(Object.keys(general).sort());
    expect(Object.keys(plain).sort()).toEqual([...TEXT_FIELDS, ...INTEGER_FIELDS, ...DATETIME_FIELDS, 'call-direction'].sort());
    for (const f of TEXT_FIELDS) expect(plain[f]).toBe('VARCHAR');
    for (const f of INTEGER_FIELDS) expect(plain[f]).toBe('INTEGER');
    for (const f of DATETIME_FIELDS) expect(plain[f]).toBe('TIMESTAMPTZ');
    expect(plain['call-direction']).toBe('VARCHAR');
    expect(new Set(Object.values(general))).toEqual(new Set(['VARCHAR']));
  });
});

describe('the lake column table', () => {
  const parquetTypes = { VARCHAR: 'VARCHAR', INTEGER: 'INTEGER', TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE', JSON: 'JSON' } as const;

  it('is what a lake file holds, column for column and type for type, from either form of the row SQL', async () => {
    await load('schema-plain.example', plainTexts.slice(0, 10), true);
    await load('schema-general.example', plainTexts.slice(0, 10), false);
    const db = await Db.open(':memory:');
    try {
      // domain lives in the partition path, not in the file.
      const expected = LAKE_COLUMNS.filter((c) => c.name !== 'domain').map((c) => [c.name, parquetTypes[c.type]]);
      for (const domain of ['schema-plain.example', 'schema-general.example']) {
        const path = join(partitionDir(dir, '2026-10', domain), PARTITION_FILE);
        const cols = await db.all<{ column_name: string; column_type: string }>(
          `DESCRIBE SELECT * FROM read_parquet(${sqlString(path)}, hive_partitioning = false)`,
        );
        expect(cols.map((c) => [c.column_name, c.column_type])).toEqual(expected);
      }
    } finally {
      db.close();
    }
  });

  it('gives the empty lake view the same columns, and month', async () => {
    const db = await Db.open(':memory:');
    try {
      const cols = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${EMPTY_CDRS_SELECT}`);
      expect(cols.map((c) => [c.column_name, c.column_type])).toEqual([
        ...LAKE_COLUMNS.map((c) => [c.name, parquetTypes[c.type]]),
        ['month', 'VARCHAR'],
      ]);
    } finally {
      db.close();
    }
  });

  it('reads every API field that plain-record.ts checks, and names each column once', () => {
    const sources = new Set(LAKE_COLUMNS.flatMap((c) => c.source));
    expect([...sources].sort()).toEqual([...TEXT_FIELDS, ...INTEGER_FIELDS, ...DATETIME_FIELDS, 'call-direction'].sort());
    expect(new Set(LAKE_COLUMNS.map((c) => c.name)).size).toBe(LAKE_COLUMNS.length);
  });
});
