import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { Db } from '../../pipeline/db/duckdb.ts';
import { LakeWriter } from '../../pipeline/lake/lake-writer.ts';
import { partitionDir } from '../../pipeline/lake/layout.ts';
import { decodePartitionValue, encodePartitionValue, isShortPartitionValue } from '../../pipeline/lake/partition-path.ts';
import { encodeValues, spoolFileName } from '../../pipeline/lake/spool-format.ts';
import { createCdrsView } from '../../pipeline/transform/lake-views.ts';
import { runReconcile } from '../../pipeline/transform/reconcile.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { NOW, OCT, startHarness } from '../extract/harness.ts';
import { deckConfig } from '../transform/lake-fixture.ts';

// 253 bytes: the longest DNS name; and a Unicode name whose percent-encoding is 6x its length.
const LONG_ASCII = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(61)}x.example`.slice(0, 253);
const LONG_UNICODE = `${'ü'.repeat(60)}.example`;
const SAME_PREFIX = `${LONG_ASCII.slice(0, 240)}-other`;

describe('partition names of long domain names', () => {
  it('are short, stable, readable and distinct, and never equal an ordinary encoding', () => {
    for (const name of [LONG_ASCII, LONG_UNICODE, SAME_PREFIX]) {
      const seg = encodePartitionValue(name);
      expect(Buffer.byteLength(`domain=${seg}`)).toBeLessThanOrEqual(255);
      expect(seg).toMatch(/^[A-Za-z0-9._%-]{1,120}~[0-9a-f]{32}$/);
      expect(encodePartitionValue(name)).toBe(seg);
      expect(isShortPartitionValue(seg)).toBe(true);
      expect(decodePartitionValue(seg)).toBeUndefined();
    }
    expect(encodePartitionValue(LONG_ASCII)).not.toBe(encodePartitionValue(SAME_PREFIX));
    // The prefix is cut between characters, never inside one's %XX bytes.
    expect(encodePartitionValue(LONG_UNICODE)).toMatch(/^(%C3%BC)+~/);
    // A literal "~" is encoded, so an ordinary name never looks short.
    expect(encodePartitionValue('a~b')).toBe('a%7Eb');
    expect(isShortPartitionValue(encodePartitionValue('a~b'))).toBe(false);
    expect(encodePartitionValue('x'.repeat(200))).toBe('x'.repeat(200));
  });
});

describe('the lake with long domain names', () => {
  let dir: string;
  let writer: LakeWriter;
  beforeEach(async () => {
    dir = await tempDir('cdrpipe-long-');
    writer = await LakeWriter.open(dir, { workDir: join(dir, 'work') });
  });
  afterEach(async () => {
    await writer.close();
  });

  it('stores their partitions and gives readers the full name in `domain`', async () => {
    let seq = 0;
    const write = async (domain: string, id: string, start: string) => {
      const f = join(dir, 'work', spoolFileName(++seq, false));
      await writeFile(f, encodeValues([{ id, 'call-start-datetime': start, 'call-total-duration-seconds': 5, 'call-direction': 0 }]));
      await writer.writePartition({
        domain,
        month: '2026-10',
        range: { start: new Date(start), end: new Date(new Date(start).getTime() + 3_600_000) },
        files: [f],
        ingestedAt: new Date(),
      });
    };
    await write(LONG_ASCII, 'a1', '2026-10-03T00:00:00Z');
    await write(LONG_ASCII, 'a2', '2026-10-04T00:00:00Z'); // a merge into the existing file
    await write(LONG_UNICODE, 'u1', '2026-10-03T00:00:00Z');
    await write('short.example', 's1', '2026-10-03T00:00:00Z');
    const dirs = await readdir(join(dir, 'lake', 'cdrs', 'month=2026-10'));
    expect(dirs).toContain(`domain=${encodePartitionValue(LONG_ASCII)}`);
    expect(await readdir(partitionDir(dir, '2026-10', LONG_ASCII))).toEqual(['data.parquet']);
    const db = await Db.open(':memory:');
    try {
      await createCdrsView(db, dir);
      const rows = await db.all<{ domain: string; id: string }>(`SELECT domain, id FROM cdrs ORDER BY id`);
      expect(rows).toEqual([
        { domain: LONG_ASCII, id: 'a1' },
        { domain: LONG_ASCII, id: 'a2' },
        { domain: 'short.example', id: 's1' },
        { domain: LONG_UNICODE, id: 'u1' },
      ]);
      const cols = await db.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE cdrs)`);
      expect(cols.map((c) => c.column_name)).not.toContain('domain_name');
    } finally {
      db.close();
    }
  });
});

describe('ingest and reconcile of a long domain name', () => {
  it('ingest writes it, reconcile finds it by its full name', async () => {
    const h = await startHarness({ now: NOW, domains: 0 });
    try {
      h.sim.addDomain({ domain: LONG_ASCII });
      const rec = {
        id: 'l1',
        'call-start-datetime': '2026-10-15T10:00:00Z',
        'call-total-duration-seconds': 30,
        'call-talking-duration-seconds': 30,
        'call-direction': 0,
      };
      h.sim.addCdrs(LONG_ASCII, [rec]);
      const s = await h.ingest({ from: OCT.start, to: OCT.end });
      expect(s.failures).toEqual([]);
      const config = await deckConfig(h.dir);
      const r = await runReconcile({
        dataDir: h.dir,
        config,
        source: h.client(),
        month: '2026-10',
        domains: undefined,
        logger: silentLogger(),
        clock: h.clock,
      });
      expect(r.rows.map((x) => [x.domain, x.lakeTotal, x.apiTotal])).toEqual([[LONG_ASCII, 1, 1]]);
    } finally {
      await h.close();
    }
  });
});
