import { describe, expect, it } from 'vitest';
import { CdrpipeError, ConfigError, EXIT, exitCodeOf, ReconcileMismatchError, UsageError } from '../../pipeline/util/errors.ts';
import { BodyShapeError, NetSapiensBodyError, NetSapiensHttpError, NetSapiensTransportError } from '../../pipeline/source/source-errors.ts';
import { IngestIncompleteError, type IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { IngestBusyError } from '../../pipeline/extract/work-dir.ts';
import { DamagedLakeError } from '../../pipeline/lake/damaged-files.ts';
import { DataTestFailedError } from '../../pipeline/transform/data-tests.ts';
import { ReadOnlyQueryError } from '../../pipeline/transform/read-only-sql.ts';
import { LockHeldError } from '../../pipeline/util/lock.ts';
import { InvalidMailAddressError } from '../../pipeline/util/mail-address.ts';

const summary = { failures: [], anomalies: [] } as unknown as IngestSummary;

describe('product errors', () => {
  const cases: [string, Error, number][] = [
    ['UsageError', new UsageError('bad --month'), 2],
    ['ConfigError', new ConfigError('bad field', 'plans.x.rateDeck'), 2],
    ['ReconcileMismatchError', new ReconcileMismatchError('off', ['a.example']), 3],
    ['NetSapiensHttpError', new NetSapiensHttpError(500, 'GET', '/domains', undefined, 3), 1],
    ['NetSapiensHttpError', new NetSapiensHttpError(401, 'GET', '/domains', undefined, 1), 2],
    ['NetSapiensBodyError', new NetSapiensBodyError('GET', '/domains', 'not JSON', 3, '<html>'), 1],
    ['NetSapiensTransportError', new NetSapiensTransportError('GET', '/domains', 'timeout', 3, ''), 1],
    ['BodyShapeError', new BodyShapeError('not an array'), 1],
    ['IngestIncompleteError', new IngestIncompleteError(summary), 1],
    ['IngestBusyError', new IngestBusyError('busy'), 1],
    ['DamagedLakeError', new DamagedLakeError([]), 1],
    ['DataTestFailedError', new DataTestFailedError([]), 1],
    ['ReadOnlyQueryError', new ReadOnlyQueryError('refused'), 2],
    ['LockHeldError', new LockHeldError('held', undefined), 1],
    ['InvalidMailAddressError', new InvalidMailAddressError('x', 'not an address'), 1],
  ];

  it.each(cases)('%s is a CdrpipeError with its exit code', (name, err, code) => {
    expect(err).toBeInstanceOf(CdrpipeError);
    expect(err.name).toBe(name);
    expect((err as CdrpipeError).exitCode).toBe(code);
    expect(exitCodeOf(err)).toBe(code);
  });

  it('keeps the cause, and maps anything else to failure', () => {
    const low = new Error('ENOENT');
    const err = new ConfigError('plans.x.rateDeck: cannot read', 'plans.x.rateDeck', { cause: low });
    expect(err.cause).toBe(low);
    expect(exitCodeOf(new Error('plain'))).toBe(EXIT.failure);
    expect(exitCodeOf(Object.assign(new Error('duck'), { exitCode: 3 }))).toBe(EXIT.failure);
    expect(exitCodeOf('a string')).toBe(EXIT.failure);
  });
});
