/**
 * The one normalisation of a CDR id, shared by validation, the ingest's duplicate check and the
 * lake (lake/sql/cdr-macros.sql `cdr_id` spells the same rule in SQL; test/lake/cdr-id.test.ts
 * holds the two to the same answers). Two records whose ids normalise alike are one CDR: the
 * lake stores it once, under the normalised id.
 *
 * Rule: leading and trailing white space is removed (what String.prototype.trim removes: tab,
 * line feed, vertical tab, form feed, carriage return, U+FEFF and every Unicode space or
 * line/paragraph separator); a whole-number id becomes its decimal text. An id that is empty
 * after that, or any other type, is no id (the record is rejected).
 */
export function normalizeCdrId(raw: unknown): string | undefined {
  if (typeof raw === 'string') {
    const id = raw.trim();
    return id === '' ? undefined : id;
  }
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
  return undefined;
}
