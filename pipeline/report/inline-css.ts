/**
 * CSS inlining for report e-mails with juice's exact output at a fraction of its cost. juice parses
 * every page into a DOM, matches every rule against every element and serialises the page again:
 * most of a report's render time. When the page's CSS has only context-free rules (a selector that
 * is a tag name and/or classes, nothing that looks at parents or siblings, no variables), what
 * juice does to an element depends on nothing but that element's start tag. So each distinct start
 * tag is inlined by juice itself once (all of a page's new tags in one juice call) and remembered;
 * a page is then its text with the <style> block dropped and every start tag swapped for its
 * inlined form. A page this cannot vouch for (CSS with other selectors, template-like `{{`/`<%`
 * text that juice treats specially, tags it cannot split cleanly) goes through juice whole.
 */
import juice from 'juice';

/** The juice options every report uses. */
export const JUICE_OPTIONS: juice.Options = {
  removeStyleTags: true,
  preserveMediaQueries: false,
  preserveFontFaces: false,
  applyWidthAttributes: false,
};

/** juice on the whole page: the reference the cached path must equal. */
export function inlineWithJuice(html: string): string {
  return juice(html, JUICE_OPTIONS);
}

const STYLE_BLOCK = /<style\b[^>]*>([\s\S]*?)<\/style>/gi;
const START_TAG = /<[a-zA-Z][^<>]*>/g;
const TAG_NAME = /^<([a-zA-Z][a-zA-Z0-9-]*)/;
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
/** A selector that matches on the element alone: an optional tag name (or *) and any number of classes. */
const CONTEXT_FREE_SELECTOR = /^(?:\*|[a-zA-Z][a-zA-Z0-9-]*)?(?:\.[a-zA-Z_-][\w-]*)*$/;
/** Text juice protects as template code blocks (and its own placeholder for them): such pages go through juice whole. */
const CODE_BLOCK_TEXT = /\{\{|<%|JUICE_CODE_BLOCK/;
const SPLIT = '<!--cdrpipe-inline-split-->';
/** Remembered tags per stylesheet; past this the memory starts over (bounded for long-lived processes). */
const MAX_CACHED_TAGS = 20_000;

interface Split {
  css: string;
  tags: Map<string, string>;
  page: string;
}

/** The page with every start tag swapped for its remembered inlined form; undefined when some tag is not remembered yet. */
function swapTags(s: Split): string | undefined {
  let missing = false;
  const out = s.page.replace(START_TAG, (tag) => {
    const inlined = s.tags.get(tag);
    if (inlined !== undefined) return inlined;
    missing = true;
    return tag;
  });
  return missing ? undefined : out;
}

/** The page's start tags not remembered yet. */
function missingTags(s: Split): string[] {
  const missing = new Set<string>();
  for (const [tag] of s.page.matchAll(START_TAG)) if (!s.tags.has(tag)) missing.add(tag);
  return [...missing];
}

/** True when every rule of `css` selects on the element alone, so inlining can be decided tag by tag. */
export function isContextFreeCss(css: string): boolean {
  const body = css.replace(/\/\*[\s\S]*?\*\//g, '');
  if (/@|var\(/i.test(body)) return false;
  const rest = body.replace(/([^{}]*)\{[^{}]*\}/g, (_, selectors: string) => {
    const ok = selectors.split(',').every((s) => {
      const sel = s.trim();
      return sel.length > 0 && CONTEXT_FREE_SELECTOR.test(sel);
    });
    return ok ? '' : '\u0000';
  });
  return rest.trim() === '';
}

/** Inlines a page's CSS as juice does (JUICE_OPTIONS), remembering each start tag's inlined form per stylesheet. */
export class CssInliner {
  private readonly byCss = new Map<string, Map<string, string> | null>();

  /** The page with its CSS inlined and its <style> block removed: byte for byte what `inlineWithJuice` returns. */
  inline(html: string): string {
    const split = this.split(html);
    if (!split) return inlineWithJuice(html);
    const fast = swapTags(split);
    if (fast !== undefined) return fast;
    if (!this.learn(split.css, split.tags, missingTags(split))) return inlineWithJuice(html);
    return swapTags(split)!;
  }

  /**
   * Inlines many pages, each exactly as `inline` does, learning the new start tags of all of them
   * in one juice call per stylesheet (instead of one call per page that brings some). A page that
   * cannot be inlined gives its error in its place.
   */
  inlineAll(pages: readonly string[]): (string | Error)[] {
    const splits = pages.map((html) => this.split(html));
    const out = splits.map((s) => (s ? swapTags(s) : undefined));
    const missingByCss = new Map<string, { tags: Map<string, string>; missing: Set<string> }>();
    splits.forEach((s, i) => {
      if (!s || out[i] !== undefined) return;
      let entry = missingByCss.get(s.css);
      if (!entry) missingByCss.set(s.css, (entry = { tags: s.tags, missing: new Set() }));
      for (const tag of missingTags(s)) entry.missing.add(tag);
    });
    // What one call cannot split back is learned page by page below (or the page goes to juice).
    for (const [css, { tags, missing }] of missingByCss) this.learn(css, tags, [...missing]);
    return pages.map((html, i) => {
      if (out[i] !== undefined) return out[i]!;
      try {
        return this.inline(html);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    });
  }

  /** The page's one stylesheet, its remembered tags and the page without the <style> block; undefined when juice must take the page whole. */
  private split(html: string): Split | undefined {
    const blocks = [...html.matchAll(STYLE_BLOCK)];
    if (blocks.length !== 1 || CODE_BLOCK_TEXT.test(html)) return undefined;
    const block = blocks[0]!;
    const css = block[1]!;
    const tags = this.tagsFor(css);
    if (!tags) return undefined;
    if (tags.size > MAX_CACHED_TAGS) tags.clear();
    return { css, tags, page: html.slice(0, block.index) + html.slice(block.index! + block[0].length) };
  }

  private tagsFor(css: string): Map<string, string> | null {
    let tags = this.byCss.get(css);
    if (tags === undefined) {
      tags = isContextFreeCss(css) ? new Map() : null;
      this.byCss.set(css, tags);
    }
    return tags;
  }

  /** Inlines `missing` tags in one juice call; false when juice's answer cannot be split back into them. */
  private learn(css: string, tags: Map<string, string>, missing: string[]): boolean {
    if (missing.some((t) => t.endsWith('/>'))) return false;
    const parts = missing.map((tag) => {
      const name = TAG_NAME.exec(tag)![1]!.toLowerCase();
      return VOID_ELEMENTS.has(name) ? tag : `${tag}</${name}>`;
    });
    const out = inlineWithJuice(`<style>${css}</style>${parts.join(SPLIT)}`).split(SPLIT);
    if (out.length !== missing.length) return false;
    const learned: string[] = [];
    for (const piece of out) {
      const m = /^<[a-zA-Z][^<>]*>/.exec(piece);
      if (!m) return false;
      learned.push(m[0]);
    }
    missing.forEach((tag, i) => tags.set(tag, learned[i]!));
    return true;
  }
}
