/** Builds lake fixtures in the contract's layout with DuckDB (the same files ingest writes). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { domainsDir, partitionDir } from '../../pipeline/lake/layout.ts';
import { publishLakeFile } from '../../pipeline/lake/lake-publish.ts';
import type { CdrpipeConfig, CdrpipeConfigInput } from '../../pipeline/config/config-schema.ts';
import { insertRows } from '../../pipeline/transform/insert-rows.ts';
import { testConfig } from '../support/test-config.ts';

export interface FixtureCdr {
  domain: string;
  id: string;
  /** ISO instant with zone, e.g. 2026-10-01T06:59:59Z */
  start: string;
  direction: 'outbound' | 'inbound' | 'missed' | 'internal' | string;
  talk_s?: number;
  duration_s?: number;
  answer?: string | null;
  end?: string | null;
  orig_user?: string | null;
  term_user?: string | null;
  caller_number?: string | null;
  dialed_number?: string | null;
  reason?: string;
  ingested_at?: string;
  /** Partition month override (to build a mis-filed row on purpose). */
  month?: string;
}

function addSeconds(iso: string, s: number): string {
  return new Date(new Date(iso).getTime() + s * 1000).toISOString();
}

/** Writes the CDRs as one parquet file per (UTC month, domain) partition; `file` names it. */
export async function writeLake(dataDir: string, cdrs: readonly FixtureCdr[], file = 'part-0.parquet'): Promise<void> {
  const db = await Db.open(':memory:');
  try {
    await db.run(`CREATE TABLE f (id VARCHAR, domain VARCHAR, start_time TIMESTAMPTZ, answer_time TIMESTAMPTZ, end_time TIMESTAMPTZ,
      duration_s INTEGER, talk_s INTEGER, direction VARCHAR, orig_user VARCHAR, term_user VARCHAR, caller_number VARCHAR,
      dialed_number VARCHAR, raw JSON, ingested_at TIMESTAMPTZ, month VARCHAR)`);
    await insertRows(
      db,
      'f',
      [
        'id',
        'domain',
        'start_time',
        'answer_time',
        'end_time',
        'duration_s',
        'talk_s',
        'direction',
        'orig_user',
        'term_user',
        'caller_number',
        'dialed_number',
        'raw',
        'ingested_at',
        'month',
      ],
      cdrs.map((c) => {
        const talk = c.talk_s ?? 0;
        const dur = c.duration_s ?? talk + 5;
        const answer = c.answer !== undefined ? c.answer : talk > 0 ? addSeconds(c.start, dur - talk) : null;
        const end = c.end !== undefined ? c.end : addSeconds(c.start, dur);
        const raw = {
          id: c.id,
          domain: c.domain,
          'call-start-datetime': c.start,
          'call-total-duration-seconds': dur,
          'call-talking-duration-seconds': talk,
          'call-disconnect-reason-text': c.reason ?? 'Orig: Bye',
          'call-orig-from-name': c.orig_user ? `User ${c.orig_user}` : null,
        };
        const month = c.month ?? new Date(c.start).toISOString().slice(0, 7);
        return [
          c.id,
          c.domain,
          c.start,
          answer,
          end,
          dur,
          talk,
          c.direction,
          c.orig_user ?? null,
          c.term_user ?? null,
          c.caller_number ?? null,
          c.dialed_number ?? null,
          JSON.stringify(raw),
          c.ingested_at ?? '2026-11-02T00:00:00Z',
          month,
        ];
      }),
    );
    const parts = await db.all<{ month: string; domain: string }>(`SELECT DISTINCT month, domain FROM f`);
    for (const p of parts) {
      const dir = partitionDir(dataDir, p.month, p.domain);
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${file}.tmp`);
      await db.run(
        `COPY (SELECT * EXCLUDE (month) FROM f WHERE month = $1 AND domain = $2 ORDER BY start_time, id) TO ${sqlString(tmp)} (FORMAT parquet)`,
        [p.month, p.domain],
      );
      // As the lake writer publishes: a rename, or (with the lake in a bucket) an upload too.
      await publishLakeFile(dataDir, tmp, join(dir, file), 'replace');
    }
  } finally {
    db.close();
  }
}

/** lake/domains/domains.parquet with each domain's PBX time zone. */
export async function writeDomains(dataDir: string, domains: { domain: string; time_zone: string | null }[]): Promise<void> {
  await mkdir(domainsDir(dataDir), { recursive: true });
  const db = await Db.open(':memory:');
  try {
    await db.run(
      `CREATE TABLE d (domain VARCHAR, reseller VARCHAR, description VARCHAR, time_zone VARCHAR, raw JSON, fetched_at TIMESTAMPTZ)`,
    );
    await insertRows(
      db,
      'd',
      ['domain', 'reseller', 'description', 'time_zone', 'raw', 'fetched_at'],
      domains.map((d) => [
        d.domain,
        'reseller.example',
        `Customer ${d.domain}`,
        d.time_zone,
        JSON.stringify({ domain: d.domain, 'time-zone': d.time_zone }),
        '2026-11-02T00:00:00Z',
      ]),
    );
    const tmp = join(domainsDir(dataDir), '.domains.parquet.tmp');
    await db.run(`COPY d TO ${sqlString(tmp)} (FORMAT parquet)`);
    await publishLakeFile(dataDir, tmp, join(domainsDir(dataDir), 'domains.parquet'), 'replace');
  } finally {
    db.close();
  }
}

export const TEST_DECK = `prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from
911,Emergency,0,1,1,0,0,2026-01-01
+1800,US toll-free,0,6,6,0,0,2026-01-01
+1900,US premium,0.99,60,60,60,0.25,2026-01-01
+1,US domestic,0.012,6,6,0,0,2026-01-01
+1,US domestic,0.011,6,6,0,0,2026-10-15
+44,United Kingdom,0.02,60,6,0,0,2026-01-01
+447,United Kingdom mobile,0.06,60,6,0,0,2026-01-01
+91,India,0.028,30,6,0,0,2026-01-01
+63,Philippines,0.12,60,60,0,0,2026-01-01
`;

/** A config with one `standard` plan over a deck written into the data dir, and no recipients. */
export async function deckConfig(
  dataDir: string,
  overrides: { deck?: string; plan?: Record<string, unknown>; customers?: CdrpipeConfigInput['customers'] } = {},
): Promise<CdrpipeConfig> {
  const deckPath = join(dataDir, 'deck.csv');
  await writeFile(deckPath, overrides.deck ?? TEST_DECK);
  return testConfig({
    reseller: { name: 'Test', billingEmails: [], operatorEmail: undefined },
    plans: {
      standard: {
        version: 'v1',
        currency: 'USD',
        decimals: 2,
        rateDeck: deckPath,
        inbound: { perMinute: '0.009', initialIncrement: 6, subsequentIncrement: 6 },
        tollFreeInbound: { perMinute: '0.025', initialIncrement: 6, subsequentIncrement: 6 },
        includedMinutes: 0,
        ...(overrides.plan ?? {}),
      },
    },
    customers: overrides.customers ?? { defaults: { plan: 'standard' }, domains: {} },
    jobs: {},
  });
}
