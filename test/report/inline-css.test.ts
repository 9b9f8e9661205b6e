/**
 * The report renderer's CSS inliner gives exactly juice's page, whole-page juice being the
 * reference: for real rendered reports (hostile names, classes set from data, an empty month,
 * the billing summary) and for pages it must hand to juice whole.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { reportsDir, warehousePath } from '../../pipeline/lake/layout.ts';
import { CssInliner, inlineWithJuice, isContextFreeCss } from '../../pipeline/report/inline-css.ts';
import { ReportRenderer } from '../../pipeline/report/render.ts';
import { renderBilling, renderCustomer, renderCustomers, type RenderContext } from '../../pipeline/report/render-reports.ts';
import { queryBillingSummary, queryCustomerMonths, queryDomains, queryUnbillableCalls } from '../../pipeline/report/warehouse-queries.ts';
import { makeScenario, type Scenario } from './fixtures/scenario.ts';

const CSS = '.a { color: red; text-align: right; } .b { padding: 1px; } td.b { color: blue; } body { margin: 0; }';
const page = (body: string, css = CSS) => `<!DOCTYPE html><html><head><style>${css}</style>\n</head><body>${body}</body></html>`;

describe('CSS inlining', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await makeScenario();
  });

  it('renders every customer report and the billing summary exactly as whole-page juice does', async () => {
    const fast = ReportRenderer.load();
    const reference = ReportRenderer.load(undefined, { inline: inlineWithJuice });
    const db = await Db.open(warehousePath(s.dataDir), { readOnly: true });
    try {
      const domains = await queryDomains(db);
      const data = await queryCustomerMonths(
        db,
        domains.map((d) => d.domain),
        '2026-10',
      );
      const ctx = (renderer: ReportRenderer): RenderContext => ({
        config: s.config,
        month: '2026-10',
        generatedAt: '2026-11-01T06:00:00Z',
        renderer,
        outDir: reportsDir(s.dataDir, '2026-10'),
      });
      // Twice: the second pass is served from the remembered tags.
      for (let pass = 0; pass < 2; pass++) {
        for (const d of domains) {
          const got = renderCustomer(d, data.get(d.domain)!, ctx(fast)).email.html;
          expect(got).toBe(renderCustomer(d, data.get(d.domain)!, ctx(reference)).email.html);
          expect(got).not.toMatch(/<style/i);
        }
      }
      // All customers at once, as the report stage renders a chunk: their new tags learned together.
      const together = renderCustomers(
        domains.map((d) => ({ d, rows: data.get(d.domain)! })),
        ctx(ReportRenderer.load()),
      );
      for (const [i, d] of domains.entries()) {
        const p = together[i];
        if (p instanceof Error) throw p;
        expect(p!.email.html).toBe(renderCustomer(d, data.get(d.domain)!, ctx(reference)).email.html);
      }
      const billing = await queryBillingSummary(db, '2026-10');
      const unbillable = await queryUnbillableCalls(db, '2026-10');
      const b = await renderBilling(billing, unbillable, { ...ctx(fast), dataDir: s.dataDir });
      const ref = await renderBilling(billing, unbillable, { ...ctx(reference), dataDir: s.dataDir });
      expect(b.email.html).toBe(ref.email.html);
    } finally {
      db.close();
    }
  });

  it('decides per tag: classes, existing styles, table attributes and escaped text as juice does', () => {
    const inliner = new CssInliner();
    const pages = [
      page('<table><tr><td class="a">1 &amp; 2</td><td class="b" style="color: green;">x</td></tr></table>'),
      page('<table><tr><td class="b a" width="52">&lt;script&gt; ü ✓</td><td class="">y</td><td>z</td></tr></table>'),
      page('<div class="a"><span class="b">&quot;q&quot;</span><br><span class="c">n</span></div>'),
    ];
    for (const p of [...pages, ...pages]) expect(inliner.inline(p)).toBe(inlineWithJuice(p));
    // Many pages at once (their new tags learned in one call), beside pages juice must take whole.
    const whole = [page('<div class="a"><span class="b">x</span></div>', '.a span { color: red; }'), page('<div class="a">{{ x }}</div>')];
    const mixed = [...pages, ...whole, page('<p class="b a">new</p><td class="a" width="7%">t</td>')];
    expect(new CssInliner().inlineAll(mixed)).toEqual(mixed.map(inlineWithJuice));
  });

  it('hands pages it cannot vouch for to juice whole', () => {
    const inliner = new CssInliner();
    expect(isContextFreeCss(CSS)).toBe(true);
    for (const css of [
      '.a td { color: red; }',
      '.a > .b { color: red; }',
      'td:first-child { color: red; }',
      '@media (x) { .a { color: red; } }',
    ]) {
      expect(isContextFreeCss(css)).toBe(false);
      const p = page('<table><tr><td class="a"><span class="b">x</span></td></tr></table>', css);
      expect(inliner.inline(p)).toBe(inlineWithJuice(p));
    }
    // Text juice treats as a template code block, spanning tags.
    const braces = page('<div class="a">{{ open</div><div class="b">close }}</div>');
    expect(inliner.inline(braces)).toBe(inlineWithJuice(braces));
  });
});
