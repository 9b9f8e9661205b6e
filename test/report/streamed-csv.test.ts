/**
 * A customer's CSV attachment built batch by batch as its rows stream from the warehouse is
 * byte for byte the one built from all its rows at once, for a customer whose calls span several
 * of DuckDB's batches (2,048 rows) and share batches with another customer's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { reportsDir, warehousePath } from '../../pipeline/lake/layout.ts';
import { buildCallsCsv } from '../../pipeline/report/calls-csv.ts';
import { ReportRenderer } from '../../pipeline/report/render.ts';
import { callsCsvSettings, renderCustomer, type RenderContext } from '../../pipeline/report/render-reports.ts';
import { queryCustomerMonths, queryDomains } from '../../pipeline/report/warehouse-queries.ts';
import { HeapGarbage } from '../../pipeline/util/heap-garbage.ts';
import { syntheticCalls } from './fixtures/warehouse-fixture.ts';
import { DOMAINS, HOSTILE_FORMULA, makeScenario, type Scenario } from './fixtures/scenario.ts';

describe('CSV attachments streamed from the warehouse', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await makeScenario({
      calls: [
        ...syntheticCalls({
          domain: 'acme.example',
          month: '2026-10',
          count: 7000,
          users: 5,
          seed: 11,
          callerName: (u) => (u === '101' ? HOSTILE_FORMULA : 'Carol, "Example"'),
        }),
        ...syntheticCalls({ domain: 'globex.example', month: '2026-10', count: 300, users: 2, seed: 12 }),
        ...syntheticCalls({ domain: 'empty.example', month: '2026-08', count: 5, seed: 13 }),
      ],
    });
  });

  it('gives every customer the same attachment as the rows read whole, across batch boundaries', async () => {
    const db = await Db.open(warehousePath(s.dataDir), { readOnly: true });
    try {
      const domains = (await queryDomains(db)).map((d) => d.domain);
      expect(domains.sort()).toEqual(DOMAINS.map((d) => d.domain).sort());
      const whole = await queryCustomerMonths(db, domains, '2026-10');
      const garbage = new HeapGarbage(2 ** 20);
      const streamed = await queryCustomerMonths(db, domains, '2026-10', { callsCsv: callsCsvSettings(s.config), garbage });
      // Several batches of one customer's rows, and the collections their garbage calls for.
      expect(whole.get('acme.example')!.billedCalls.length).toBeGreaterThan(2 * 2048);
      expect(garbage.collections).toBeGreaterThan(0);
      const ctx: RenderContext = {
        config: s.config,
        month: '2026-10',
        generatedAt: '2026-11-01T06:00:00Z',
        renderer: ReportRenderer.load(),
        outDir: reportsDir(s.dataDir, '2026-10'),
      };
      for (const d of DOMAINS) {
        const rows = whole.get(d.domain)!;
        const csv = streamed.get(d.domain)!.callsCsv!;
        expect(streamed.get(d.domain)!.billedCalls).toEqual([]);
        expect(csv.rows).toBe(rows.billedCalls.length);
        expect(csv.text).toBe(buildCallsCsv(rows.billedCalls, { currency: 'USD', decimals: 2 }));
        const a = renderCustomer(d, rows, ctx);
        const b = renderCustomer(d, streamed.get(d.domain)!, ctx);
        expect(b.csv).toBe(a.csv);
        expect(b.rendered).toEqual(a.rendered);
        expect(b.email.html).toBe(a.email.html);
      }
      expect(streamed.get('acme.example')!.callsCsv!.text).toContain(`'${HOSTILE_FORMULA.replace(/"/g, '""')}`);
    } finally {
      db.close();
    }
  });
});
