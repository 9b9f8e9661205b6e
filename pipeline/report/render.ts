/**
 * Renders report view models through templates/: one isolated Handlebars instance, layouts and
 * partials registered on it, per-report subject/html/text templates. HTML is escaped everywhere
 * (no triple-stash on data); the CSS block is inlined (juice's output, each distinct tag inlined
 * once per renderer: ./inline-css.ts) and then dropped, because Gmail and Outlook ignore <style>. Subject and text parts are not HTML, so they are compiled without HTML
 * escaping (escaping would turn "AT&T" into "AT&amp;T" in a plain-text mail).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { CssInliner } from './inline-css.ts';

export const REPORT_NAMES = ['monthly-usage', 'billing-summary'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** Gmail clips messages whose HTML exceeds about 102 KB. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

export const defaultTemplatesDir = fileURLToPath(new URL('../../templates', import.meta.url));

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

type Compiled = (context: unknown) => string;

const TEXT_RULE = '='.repeat(72);

function registerHelpers(hb: typeof Handlebars): void {
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  hb.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(str).join(''));
  hb.registerHelper('upper', (v: unknown) => str(v).toUpperCase());
  hb.registerHelper('padEnd', (v: unknown, width: number) => str(v).padEnd(width));
  hb.registerHelper('padStart', (v: unknown, width: number) => str(v).padStart(width));
  hb.registerHelper('textBar', (pct: unknown, width: number) => {
    const p = typeof pct === 'number' ? pct : 0;
    const cells = p > 0 ? Math.max(1, Math.round((p * width) / 100)) : 0;
    return '#'.repeat(cells);
  });
}

/** Removes CR/LF so a subject line can never carry extra headers. */
function oneLine(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function attempt<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** The templates of every report, compiled once. */
export class ReportRenderer {
  private constructor(
    private readonly templates: ReadonlyMap<ReportName, { subject: Compiled; html: Compiled; text: Compiled }>,
    private readonly inline: (html: string) => string,
    /** Inlines many pages at once, each as `inline` would (the default inliner learns their new tags together). */
    private readonly inlineAll: (pages: readonly string[]) => (string | Error)[],
  ) {}

  /**
   * Loads templates/ (layouts/, partials/, one folder per report). Throws naming a missing file.
   * `inline` replaces the CSS inliner (default: juice's output, each distinct tag inlined once).
   */
  static load(dir: string = defaultTemplatesDir, opts: { inline?: (html: string) => string } = {}): ReportRenderer {
    const hb = Handlebars.create();
    registerHelpers(hb);
    hb.registerPartial('email-css', readFileSync(join(dir, 'layouts', 'email.css'), 'utf8'));
    hb.registerPartial('layout-html', readFileSync(join(dir, 'layouts', 'html.hbs'), 'utf8'));
    hb.registerPartial('layout-text', readFileSync(join(dir, 'layouts', 'text.hbs'), 'utf8'));
    for (const file of readdirSync(join(dir, 'partials'))) {
      if (file.endsWith('.hbs')) hb.registerPartial(basename(file, '.hbs'), readFileSync(join(dir, 'partials', file), 'utf8'));
    }
    const templates = new Map<ReportName, { subject: Compiled; html: Compiled; text: Compiled }>();
    for (const report of REPORT_NAMES) {
      const read = (part: string) => {
        const path = join(dir, report, `${part}.hbs`);
        try {
          return readFileSync(path, 'utf8');
        } catch (err) {
          throw new Error(`missing template ${path} (each report needs subject.hbs, html.hbs and text.hbs): ${(err as Error).message}`, {
            cause: err,
          });
        }
      };
      templates.set(report, {
        subject: hb.compile(read('subject'), { noEscape: true, strict: true }),
        html: hb.compile(read('html'), { strict: true }),
        text: hb.compile(read('text'), { noEscape: true, strict: true }),
      });
    }
    const inline = opts.inline;
    if (inline) return new ReportRenderer(templates, inline, (pages) => pages.map((html) => attempt(() => inline(html))));
    const inliner = new CssInliner();
    return new ReportRenderer(
      templates,
      (html) => inliner.inline(html),
      (pages) => inliner.inlineAll(pages),
    );
  }

  /** Renders one report. `view` must hold every field its templates name (strict mode). */
  render(report: ReportName, view: object & { footer?: string }): RenderedEmail {
    const email = this.renderTemplates(report, view);
    return { ...email, html: this.inline(email.html) };
  }

  /**
   * Renders many reports, each exactly as `render` would; their pages' CSS is inlined together
   * (the new start tags of all of them learned in one go). A report whose templates throw gives
   * its error in its place; the others still render.
   */
  renderAll(jobs: readonly { report: ReportName; view: object & { footer?: string } }[]): (RenderedEmail | Error)[] {
    const drafts = jobs.map((j) => attempt(() => this.renderTemplates(j.report, j.view)));
    const ok = drafts.filter((d): d is RenderedEmail => !(d instanceof Error));
    const pages = this.inlineAll(ok.map((d) => d.html));
    let next = 0;
    return drafts.map((d) => {
      if (d instanceof Error) return d;
      const html = pages[next++]!;
      return html instanceof Error ? html : { ...d, html };
    });
  }

  /** Subject, HTML before inlining, and text. */
  private renderTemplates(report: ReportName, view: object & { footer?: string }): RenderedEmail {
    const t = this.templates.get(report);
    if (!t) throw new Error(`no templates for report ${JSON.stringify(report)}`);
    const subject = oneLine(t.subject(view));
    const context = { ...view, subject, rule: TEXT_RULE };
    const html = t.html(context);
    const text = t
      .text(context)
      .replace(/[ \t]+$/gm, '')
      .replace(/\n{3,}/g, '\n\n');
    return { subject, html, text };
  }
}
