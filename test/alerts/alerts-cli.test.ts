import { describe, expect, it } from 'vitest';
import { recordEvaluation } from '../../pipeline/alerts/index.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { finding } from './helpers.ts';

describe('cdrpipe alerts', () => {
  it('lists alerts newest first as contract JSON lines, acknowledges one, refuses an unknown id with exit 2', async () => {
    const dataDir = await tempDir();
    const env = { CDRPIPE_DATA_DIR: dataDir };
    const channels = () => [];
    await recordEvaluation(
      { dataDir, now: new Date('2026-11-28T03:20:00Z'), channels },
      { findings: [finding()], cursor: new Date('2026-11-28T03:15:00Z'), callsEvaluated: 10 },
    );
    await recordEvaluation(
      { dataDir, now: new Date('2026-11-28T03:35:00Z'), channels },
      {
        findings: [
          finding({
            rule: 'wangiri',
            key: '225',
            amount: null,
            calls: 31,
            severity: 'warning',
            message: '31 short missed calls from +225',
          }),
        ],
        cursor: new Date('2026-11-28T03:30:00Z'),
        callsEvaluated: 10,
      },
    );
    const list = await runCli(['alerts', '--json'], { env });
    expect(list.code).toBe(0);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => Object.keys(r))).toEqual(
      rows.map(() => ['id', 'rule', 'domain', 'window_start', 'window_end', 'severity', 'calls', 'amount', 'message']),
    );
    expect(rows.map((r) => [r.rule, r.amount, r.calls, r.window_start])).toEqual([
      ['wangiri', null, 31, '2026-11-28T03:00:00.000Z'],
      ['spend-velocity', '120.50', 40, '2026-11-28T03:00:00.000Z'],
    ]);
    const id = String(rows[1]!.id);
    expect(id).toMatch(/^[0-9a-f]{12}$/);

    const ack = await runCli(['alerts', 'ack', id], { env });
    expect([ack.code, ack.stdout]).toEqual([0, `alert ${id} acknowledged\n`]);
    const unknown = await runCli(['alerts', 'ack', 'nope'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no alert with id "nope"');

    const open = await runCli(['alerts', '--open', '--json'], { env });
    expect(
      open.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { rule: string }).rule),
    ).toEqual(['wangiri']);
  }, 240_000);
});
