import { describe, expect, it } from 'vitest';
import { parseDomainPage } from '../../pipeline/source/domains.ts';
import { domainPath, windowQuery } from '../../pipeline/source/netsapiens-client.ts';
import { BodyShapeError } from '../../pipeline/source/source-errors.ts';
import { UsageError } from '../../pipeline/util/errors.ts';

describe('parseDomainPage', () => {
  it('lifts domain, reseller, description, time zone; skips unusable entries with a reason', () => {
    const page = parseDomainPage(
      JSON.stringify([
        { domain: 'acme.example.com', reseller: 'r1', description: 'Acme', 'time-zone': 'US/Pacific', 'dial-plan': 'x' },
        { domain: 'bare' },
        { domain: '..' },
        { description: 'no name' },
        'x',
      ]),
    );
    expect(page.received).toBe(5);
    expect(page.domains).toEqual([
      {
        domain: 'acme.example.com',
        reseller: 'r1',
        description: 'Acme',
        timeZone: 'US/Pacific',
        raw: expect.objectContaining({ 'dial-plan': 'x' }),
      },
      { domain: 'bare', reseller: undefined, description: undefined, timeZone: undefined, raw: { domain: 'bare' } },
    ]);
    expect(page.skipped.map((s) => s.reason)).toEqual(['domain name ".." is a dot segment', 'has no "domain" string', 'not a JSON object']);
  });
  it('throws BodyShapeError when the body is not an array', () => {
    expect(() => parseDomainPage('{"total":3}')).toThrow(BodyShapeError);
    expect(() => parseDomainPage('[{"domain":')).toThrow(BodyShapeError);
  });
});

describe('request building', () => {
  it('path-encodes domain names and refuses dot segments', () => {
    expect(domainPath('acme.example.com')).toBe('/domains/acme.example.com');
    expect(domainPath('a b/c?d#e%')).toBe('/domains/a%20b%2Fc%3Fd%23e%25');
    expect(domainPath('~')).toBe('/domains/~');
    expect(() => domainPath('..')).toThrow(UsageError);
    expect(() => domainPath('')).toThrow(UsageError);
  });
  it('always sends both bounds as RFC 3339 UTC, start floored and end ceiled', () => {
    expect(windowQuery({ start: new Date('2026-11-27T13:00:00.900Z'), end: new Date('2026-11-27T14:00:00.100Z') })).toEqual({
      'datetime-start': '2026-11-27T13:00:00Z',
      'datetime-end': '2026-11-27T14:00:01Z',
    });
  });
  it('refuses empty, reversed and invalid windows', () => {
    const t = new Date('2026-11-27T13:00:00Z');
    expect(() => windowQuery({ start: t, end: t })).toThrow(/empty or reversed/);
    expect(() => windowQuery({ start: new Date('x'), end: t })).toThrow(/invalid date/);
  });
});
