import { describe, expect, it } from 'vitest';
import { ackAlert, listAlerts, readAlertCursor, readAlertPosition, recordEvaluation } from '../../pipeline/alerts/index.ts';
import { withState } from '../../pipeline/state/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { finding } from './helpers.ts';

const channels = () => ['email:ops@test.example', 'webhook'];

async function deliveries(dataDir: string) {
  return withState(dataDir, (db) =>
    db.all<{ alert_id: string; level: number; channel: string }>(
      `SELECT alert_id, level, channel FROM alert_deliveries ORDER BY alert_id, level, channel`,
    ),
  );
}

function record(dataDir: string, at: string, findings: ReturnType<typeof finding>[], cursor: string | null) {
  return recordEvaluation(
    { dataDir, now: new Date(at), channels },
    { findings, cursor: cursor ? new Date(cursor) : null, callsEvaluated: 100 },
  );
}

describe('alert store', () => {
  it('keeps one alert per (rule, domain, key, window) across overlapping evaluations, notified once', async () => {
    const dataDir = await tempDir();
    const first = await record(dataDir, '2026-11-28T03:20:00Z', [finding({ amount: '60.00', calls: 20 })], '2026-11-28T03:15:00Z');
    expect(first).toMatchObject({ new: 1, queued: 2 });
    // The next tick sees the same hour again (more of it) and another domain's hour.
    const second = await record(
      dataDir,
      '2026-11-28T03:35:00Z',
      [finding({ amount: '70.00', calls: 24 }), finding({ domain: 'beta.example' }), finding({ amount: '70.00', calls: 24 })],
      '2026-11-28T03:30:00Z',
    );
    expect(second).toMatchObject({ new: 1, updated: 1, escalated: 0 });
    // A later evaluation that saw less of the window changes nothing.
    await record(dataDir, '2026-11-28T03:50:00Z', [finding({ amount: '65.00', calls: 22 })], null);
    const { alerts, open } = await listAlerts(dataDir);
    expect(open).toBe(2);
    expect(alerts.map((a) => [a.domain, a.amount, a.calls, a.level])).toEqual([
      ['beta.example', '120.50', 40, 0],
      ['acme.example', '70.00', 24, 0],
    ]);
    expect((await deliveries(dataDir)).length).toBe(4);
    expect((await readAlertCursor(dataDir))?.toISOString()).toBe('2026-11-28T03:30:00.000Z');
  });

  it('re-notifies once when the amount doubles, and an escalation re-opens an acknowledged alert', async () => {
    const dataDir = await tempDir();
    await record(dataDir, '2026-11-28T03:20:00Z', [finding({ amount: '10.00' })], '2026-11-28T03:15:00Z');
    const [a] = (await listAlerts(dataDir)).alerts;
    expect(await ackAlert(dataDir, a!.id, new Date('2026-11-28T03:25:00Z'))).toEqual({ found: true, alreadyAcked: false });
    expect((await listAlerts(dataDir, { open: true })).alerts).toEqual([]);
    // 19.99 is not yet double: no new notice, still acknowledged.
    expect(await record(dataDir, '2026-11-28T03:35:00Z', [finding({ amount: '19.99' })], '2026-11-28T03:30:00Z')).toMatchObject({
      escalated: 0,
      queued: 0,
    });
    expect((await listAlerts(dataDir, { open: true })).open).toBe(0);
    expect(await record(dataDir, '2026-11-28T03:50:00Z', [finding({ amount: '20.00' })], '2026-11-28T03:45:00Z')).toMatchObject({
      escalated: 1,
      queued: 2,
    });
    // The same figure again, and a bit more: no third notice until it doubles again (40.00).
    await record(dataDir, '2026-11-28T04:05:00Z', [finding({ amount: '20.00' })], '2026-11-28T04:00:00Z');
    await record(dataDir, '2026-11-28T04:20:00Z', [finding({ amount: '39.00' })], '2026-11-28T04:15:00Z');
    expect((await deliveries(dataDir)).map((d) => [d.level, d.channel])).toEqual([
      [0, 'email:ops@test.example'],
      [0, 'webhook'],
      [1, 'email:ops@test.example'],
      [1, 'webhook'],
    ]);
    const open = await listAlerts(dataDir, { open: true });
    expect(open.alerts.map((x) => [x.id, x.level, x.amount, x.ackedAt])).toEqual([[a!.id, 1, '39.00', null]]);
    expect(await ackAlert(dataDir, 'feedfeedfeed', new Date())).toEqual({ found: false, alreadyAcked: false });
  });

  it('records the lake files a pass listed with its cursor, replacing the previous list', async () => {
    const dataDir = await tempDir();
    expect(await readAlertPosition(dataDir)).toEqual({ since: null, seen: undefined });
    const lakeFiles = (entries: [string, string][]) => new Map(entries);
    await recordEvaluation(
      { dataDir, now: new Date('2026-11-28T03:20:00Z'), channels },
      {
        findings: [],
        cursor: new Date('2026-11-28T03:15:00Z'),
        callsEvaluated: 3,
        lakeFiles: lakeFiles([
          ['month=2026-11/domain=a.example/data.parquet', '10:1:7'],
          ['month=2026-11/domain=b.example/data.parquet', '20:2:8'],
        ]),
      },
    );
    await recordEvaluation(
      { dataDir, now: new Date('2026-11-28T03:35:00Z'), channels },
      {
        findings: [],
        cursor: new Date('2026-11-28T03:30:00Z'),
        callsEvaluated: 1,
        lakeFiles: lakeFiles([['month=2026-11/domain=a.example/data.parquet', '11:3:9']]),
      },
    );
    const position = await readAlertPosition(dataDir);
    expect(position.since?.toISOString()).toBe('2026-11-28T03:30:00.000Z');
    expect([...(position.seen ?? [])]).toEqual([['month=2026-11/domain=a.example/data.parquet', '11:3:9']]);
  });

  it('writes the findings and the cursor together or not at all', async () => {
    const dataDir = await tempDir();
    await record(dataDir, '2026-11-28T03:20:00Z', [finding()], '2026-11-28T03:15:00Z');
    // The second finding cannot be stored (not a decimal amount): the first is not stored either.
    await expect(
      record(
        dataDir,
        '2026-11-28T03:35:00Z',
        [finding({ domain: 'beta.example' }), finding({ domain: 'gamma.example', amount: 'lots' })],
        '2026-11-28T03:30:00Z',
      ),
    ).rejects.toThrow(/decimal/);
    expect((await listAlerts(dataDir)).alerts.map((a) => a.domain)).toEqual(['acme.example']);
    expect((await readAlertCursor(dataDir))?.toISOString()).toBe('2026-11-28T03:15:00.000Z');
    expect((await deliveries(dataDir)).length).toBe(2);
  });
});
