import { cp, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { LAKE_COLUMNS, lakeDdl, lakeFileColumns, LakeWriter, parseLakeLocation } from '../../pipeline/lake/index.ts';
import { encodeValues, spoolFileName } from '../../pipeline/lake/spool-format.ts';
import { createCdrsView } from '../../pipeline/transform/lake-views.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { NOW, startHarness, type Harness } from '../extract/harness.ts';

// A name that needs percent-encoding in the path, and one too long for a path segment (stored under
// a short partition name with the full name in domain_name).
const ENCODED = 'büro.example';
const LONG = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(50)}.example`;

let h: Harness;
let files: string[];

async function parquetFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

beforeAll(async () => {
  h = await startHarness({ now: NOW, domains: 3 });
  await h.ingest({ from: new Date('2026-10-30T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') });
  const writer = await LakeWriter.open(h.dir, { workDir: join(h.dir, 'work') });
  try {
    let seq = 0;
    for (const domain of [ENCODED, LONG]) {
      const f = join(h.dir, 'work', spoolFileName(++seq, false));
      await writeFile(
        f,
        encodeValues([
          {
            id: `${seq}-x`,
            'call-start-datetime': '2026-10-03T00:00:00.123456Z',
            'call-total-duration-seconds': 5,
            'call-direction': 0,
            'call-orig-from-name': '<b>O\'Brien</b> "quoted"',
            'call-orig-to-user': '+441234567890',
          },
        ]),
      );
      await writer.writePartition({
        domain,
        month: '2026-10',
        range: { start: new Date('2026-10-03T00:00:00Z'), end: new Date('2026-10-03T01:00:00Z') },
        files: [f],
        ingestedAt: new Date('2026-11-27T12:00:00.654Z'),
      });
    }
  } finally {
    await writer.close();
  }
  files = await parquetFiles(join(h.dir, 'lake', 'cdrs'));
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('cdrpipe lake ddl --engine duckdb', () => {
  it('creates a view `cdrs` that reads exactly what the transform reads, full domain names included', async () => {
    const res = await runCli(['lake', 'ddl', '--engine', 'duckdb'], { env: { CDRPIPE_DATA_DIR: h.dir } });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const db = await Db.open(':memory:');
    try {
      await db.run(res.stdout);
      await createCdrsView(db, h.dir, 'expected');
      const cols = await db.all<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE cdrs)`);
      const fileCols = LAKE_COLUMNS.filter((c) => c.name !== 'domain');
      expect(cols.map((c) => c.column_name).sort()).toEqual([...fileCols.map((c) => c.name), 'month', 'domain'].sort());
      const duckType = { VARCHAR: 'VARCHAR', INTEGER: 'INTEGER', TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE', JSON: 'JSON' } as const;
      for (const c of fileCols) expect(cols.find((x) => x.column_name === c.name)?.column_type, c.name).toBe(duckType[c.type]);
      const [diff] = await db.all<{ a: bigint; b: bigint; n: bigint }>(
        `SELECT (SELECT count(*) FROM (SELECT * FROM cdrs EXCEPT ALL SELECT * FROM expected)) AS a,
                (SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM cdrs)) AS b,
                (SELECT count(*) FROM cdrs) AS n`,
      );
      expect(Number(diff!.a)).toBe(0);
      expect(Number(diff!.b)).toBe(0);
      expect(Number(diff!.n)).toBeGreaterThan(50);
      const domains = await db.all<{ domain: string }>(
        `SELECT DISTINCT domain FROM cdrs WHERE domain IN (${sqlString(ENCODED)}, ${sqlString(LONG)}) ORDER BY 1`,
      );
      expect(domains.map((d) => d.domain)).toEqual([LONG, ENCODED].sort());
    } finally {
      db.close();
    }
  });

  it('works on a lake where no partition has a long name (no file holds domain_name)', async () => {
    const plain = await tempDir('cdrpipe-ddl-plain-');
    const src = join(h.dir, 'lake', 'cdrs');
    for (const f of files.filter((x) => !x.includes('~'))) await cp(f, join(plain, 'lake', 'cdrs', relative(src, f)), { recursive: true });
    const db = await Db.open(':memory:');
    try {
      await db.run(lakeDdl({ engine: 'duckdb', location: parseLakeLocation(join(plain, 'lake')) }));
      await createCdrsView(db, plain, 'expected');
      const [n] = await db.all<{ a: number; b: number }>(
        `SELECT (SELECT count(*) FROM cdrs)::INTEGER AS a, (SELECT count(*) FROM expected)::INTEGER AS b`,
      );
      expect(n!.a).toBe(n!.b);
      expect(n!.a).toBeGreaterThan(50);
    } finally {
      db.close();
    }
  });
});

describe('the statements for the other engines', () => {
  const s3 = parseLakeLocation("s3://cdr-lake/prod/it's");
  const names = lakeFileColumns().map((c) => c.name);

  it('name every lake column with a type the engine reads, plus month and domain', () => {
    const expectations: [engine: 'athena' | 'trino' | 'spark' | 'clickhouse', typed: RegExp[]][] = [
      ['athena', [/\bstart_time timestamp,/, /\btalk_s int,/, /\braw string,/, /PARTITIONED BY \(month string, domain string\)/]],
      [
        'trino',
        [
          /\bstart_time timestamp\(3\),/,
          /\btalk_s integer,/,
          /month varchar,\n {2}domain varchar\n\)/,
          /sync_partition_metadata\('cdr', 'cdrs_files', 'ADD'\)/,
        ],
      ],
      ['spark', [/basePath 's3a:\/\/cdr-lake\/prod\/it''s\/cdrs'/, /partitionColumnTypeInference\.enabled = false/]],
      [
        'clickhouse',
        [
          /start_time Nullable\(DateTime64\(6, ''UTC''\)\)/,
          /use_hive_partitioning = 1/,
          /https:\/\/cdr-lake\.s3\.eu-west-1\.amazonaws\.com\/prod\/it''s\/cdrs\/\*\*\/\*\.parquet/,
        ],
      ],
    ];
    for (const [engine, typed] of expectations) {
      const ddl = lakeDdl({
        engine,
        location: s3,
        months: ['2026-09', '2026-10'],
        domains: ['a.example', 'b.example'],
        region: 'eu-west-1',
      });
      for (const n of names) expect(ddl, `${engine}: ${n}`).toMatch(new RegExp(`\\b${n}\\b`));
      for (const re of typed) expect(ddl, engine).toMatch(re);
      expect(ddl, engine).toMatch(/VIEW (hive\.cdr\.)?cdrs AS\s+SELECT/);
      expect(ddl, engine).toContain('coalesce(f.domain_name, f.domain) AS domain');
      // Quotes in a location are doubled, never closing the literal.
      expect(ddl.replaceAll("''", '')).not.toMatch(/it's/);
    }
  });

  it('gives Athena partition projection over month and the domains present', () => {
    const ddl = lakeDdl({ engine: 'athena', location: s3, months: ['2026-09', '2026-10'], domains: ['a.example', 'b.example'] });
    expect(ddl).toContain(`'projection.month.range' = '2026-09,NOW'`);
    expect(ddl).toContain(`'projection.domain.values' = 'a.example,b.example'`);
    expect(ddl).toContain("'storage.location.template' = 's3://cdr-lake/prod/it''s/cdrs/month=${month}/domain=${domain}/'");
    expect(lakeDdl({ engine: 'athena', location: s3 })).toContain(`'projection.domain.type' = 'injected'`);
  });

  it('refuses what it cannot express, with exit 2', async () => {
    const athena = await runCli(['lake', 'ddl', '--engine', 'athena', '--location', '/srv/lake'], { env: { CDRPIPE_DATA_DIR: h.dir } });
    expect(athena.code).toBe(2);
    expect(athena.stderr).toMatch(/Athena reads object storage only; pass --location s3:\/\//);
    expect(() => parseLakeLocation('https://x.example/lake')).toThrow(/only local directories and s3:\/\/ URLs/);
    expect(() => parseLakeLocation('s3://x/\nDROP')).toThrow(/control character/);
    const engine = await runCli(['lake', 'ddl', '--engine', 'oracle'], { env: { CDRPIPE_DATA_DIR: h.dir } });
    expect(engine.code).toBe(2);
  });
});

describe('a second, independent Parquet reader', () => {
  it('finds only types every engine reads: UTC-adjusted microsecond timestamps, INT32, UTF-8 text', async () => {
    for (const file of files) {
      const meta = await parquetMetadataAsync(await asyncBufferFromFile(file));
      for (const el of meta.schema.slice(1)) {
        const col = LAKE_COLUMNS.find((c) => c.name === el.name);
        const where = `${file}: ${el.name}`;
        if (col?.type === 'TIMESTAMPTZ') {
          expect(el.type, where).toBe('INT64');
          expect(el.logical_type, where).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
        } else if (col?.type === 'INTEGER') {
          expect(el.type, where).toBe('INT32');
          expect(el.converted_type ?? 'INT_32', where).toBe('INT_32');
        } else {
          // VARCHAR, JSON and domain_name: UTF-8 byte arrays (JSON is text with a JSON annotation).
          expect(el.type, where).toBe('BYTE_ARRAY');
          expect(['UTF8', 'JSON'], where).toContain(el.converted_type);
        }
      }
    }
  });

  it('reads every column of every row of the lake exactly as DuckDB does', async () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    const db = await Db.open(':memory:');
    try {
      let rows = 0;
      for (const file of files) {
        // hyparquet: timestamps as their raw microseconds, JSON as its text, so nothing is rounded or re-serialised.
        const theirs = (await parquetReadObjects({
          file: await asyncBufferFromFile(file),
          compressors,
          parsers: { timestampFromMicroseconds: (us: bigint) => us, jsonFromBytes: (b: Uint8Array) => new TextDecoder().decode(b) },
        })) as Record<string, unknown>[];
        const schema = await db.all<{ name: string; type: string }>(
          `SELECT name, type FROM parquet_schema(${sqlString(file)}) WHERE name <> 'duckdb_schema'`,
        );
        const cols = schema.map((s) => s.name);
        const select = cols
          .map((c) => {
            const t = LAKE_COLUMNS.find((x) => x.name === c)?.type;
            if (t === 'TIMESTAMPTZ') return `epoch_us(${c}) AS ${c}`;
            if (t === 'JSON') return `${c}::VARCHAR AS ${c}`;
            return c;
          })
          .join(', ');
        const ours = await db.all<Record<string, unknown>>(
          `SELECT ${select} FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`,
        );
        expect(theirs.length, file).toBe(ours.length);
        for (let i = 0; i < ours.length; i++) {
          const a = ours[i]!;
          const b = theirs[i]!;
          expect(Object.keys(b).sort(), file).toEqual(cols.slice().sort());
          for (const c of cols) {
            const x = a[c] ?? null;
            const y = b[c] ?? null;
            expect(typeof y === 'bigint' || typeof x === 'bigint' ? String(y) : y, `${file} row ${i} ${c}`).toEqual(
              typeof y === 'bigint' || typeof x === 'bigint' ? String(x) : x,
            );
          }
        }
        rows += ours.length;
      }
      expect(rows).toBeGreaterThan(50);
      // Every column carried a value somewhere, so no column was compared as NULL against NULL only.
      const [nonNull] = await db.all<Record<string, bigint>>(
        `SELECT ${lakeFileColumns()
          .filter(
            (c) =>
              ![
                'domain_name',
                'account_code',
                'orig_site',
                'term_site',
                'orig_department',
                'term_department',
                'parent_call_id',
                'parent_cdr_id',
                'hold_s',
                'ringing_time',
              ].includes(c.name),
          )
          .map((c) => `count(${c.name}) AS ${c.name}`)
          .join(', ')} FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`,
      );
      for (const [c, n] of Object.entries(nonNull!)) expect(Number(n), c).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});
