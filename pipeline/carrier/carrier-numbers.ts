/**
 * E.164 from a number as written, the rule of reports/macros/numbers.sql `to_e164` (the importer
 * uses the macro itself; this copy serves the simulator's ground truth, and a test keeps the two equal).
 */
export function toE164(n: string | null | undefined): string | null {
  const d = (n ?? '')
    .replace(/^(sips?|tel):/, '')
    .replace(/[@;].*$/, '')
    .replace(/[^0-9+]/g, '');
  if (/^\+[1-9][0-9]{6,14}$/.test(d)) return d;
  if (/^011[1-9][0-9]{6,14}$/.test(d)) return '+' + d.slice(3);
  if (/^[2-9][0-9]{2}[2-9][0-9]{6}$/.test(d)) return '+1' + d;
  if (/^1[2-9][0-9]{2}[2-9][0-9]{6}$/.test(d)) return '+' + d;
  return null;
}

/** `e164` written as people and carriers write it: +1…, 1…, (NXX) NXX-XXXX, 011 CC …; `variant` picks the form. */
export function formatNumberVariant(e164: string, variant: number): string {
  const v = variant % 4;
  if (e164.startsWith('+1') && e164.length === 12) {
    const d = e164.slice(2);
    if (v === 1) return '1' + d;
    if (v === 2) return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
    if (v === 3) return `+1 ${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`;
    return e164;
  }
  if (v === 1 || v === 2) return `011 ${e164.slice(1, 3)} ${e164.slice(3)}`;
  return e164;
}
