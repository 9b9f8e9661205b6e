import { BodyShapeError } from './source-errors.ts';
import type { DomainInfo } from './types.ts';

/** A domain name we refuse to put in a path (`.`/`..` would walk up the URL; control characters are never names). */
export function unsafeDomainReason(name: string): string | null {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return 'is a dot segment';
  if (name.length > 255) return 'is longer than 255 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains control characters';
  return null;
}

export interface DomainPage {
  /** Elements the server sent (a page shorter than the limit is the last). */
  received: number;
  domains: DomainInfo[];
  /** Elements that were not usable domain objects, with why (logged by the client, never used in a path). */
  skipped: { reason: string; rawText: string }[];
}

function optionalText(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads a `/domains` body. BodyShapeError (retried) when it is not a JSON array. */
export function parseDomainPage(body: string): DomainPage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BodyShapeError(`domain list is not valid JSON (${body.length} characters; truncated?)`);
  }
  if (!Array.isArray(parsed))
    throw new BodyShapeError(`domain list is ${parsed === null ? 'null' : `a JSON ${typeof parsed}`}, not an array`);
  const domains: DomainInfo[] = [];
  const skipped: DomainPage['skipped'] = [];
  for (const element of parsed as unknown[]) {
    const rawText = JSON.stringify(element) ?? String(element);
    if (element === null || typeof element !== 'object' || Array.isArray(element)) {
      skipped.push({ reason: 'not a JSON object', rawText });
      continue;
    }
    const o = element as Record<string, unknown>;
    if (typeof o.domain !== 'string') {
      skipped.push({ reason: 'has no "domain" string', rawText });
      continue;
    }
    const unsafe = unsafeDomainReason(o.domain);
    if (unsafe !== null) {
      skipped.push({ reason: `domain name ${JSON.stringify(o.domain)} ${unsafe}`, rawText });
      continue;
    }
    domains.push({
      domain: o.domain,
      reseller: optionalText(o.reseller),
      description: optionalText(o.description),
      timeZone: optionalText(o['time-zone']),
      raw: o,
    });
  }
  return { received: parsed.length, domains, skipped };
}

/** Reads a non-negative integer that may arrive as a number or a numeric string. */
export function countField(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) return +v.trim();
  return undefined;
}

export function parseJsonObject(body: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BodyShapeError(`${what} is not valid JSON (${body.length} characters; truncated?)`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyShapeError(`${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}
