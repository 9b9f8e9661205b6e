import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reads a .sql file that lives beside the lake code (analysts can read the same text). */
export function lakeSql(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./sql/${name}`, import.meta.url)), 'utf8');
}

/**
 * Fills `{{name}}` placeholders with already-quoted SQL fragments. Every placeholder must be
 * given: a missing one is a programming error, not something to send to DuckDB.
 */
export function fillSql(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`SQL template placeholder {{${key}}} has no value`);
    return v;
  });
}
