/**
 * The send log's batch writes (one statement for a whole batch) decide and record exactly what
 * one statement per message did: each key's decision from its own row, a key repeated in a batch
 * seeing what the one before it wrote, and failures and deliveries recorded side by side.
 */
import { describe, expect, it } from 'vitest';
import { claimSends, recordAnswers, type SendKey } from '../../pipeline/deliver/send-log.ts';
import { withState } from '../../pipeline/state/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { tempDir } from '../support/temp-dir.ts';

const clock = new FixedClock(new Date('2026-11-01T06:00:00Z'));
const key = (domain: string, recipient = `usage@${domain}`): SendKey => ({ report: 'monthly-usage', domain, month: '2026-10', recipient });
const rows = (dataDir: string) =>
  withState(dataDir, (db) =>
    db.all(`SELECT domain, recipient, status, attempts, message_id, error, transport, response FROM sends ORDER BY domain, recipient`),
  );
const rules = { force: false, transportKind: 'smtp' };

describe('send log in batches', () => {
  it('claims and records a batch of distinct keys as one key at a time would', async () => {
    const dataDir = await tempDir();
    const [sent, failed, pending, fresh] = [key('a.example'), key('b.example'), key('c.example'), key('d.example')];
    await claimSends(dataDir, [sent, failed, pending], rules, clock);
    await recordAnswers(
      dataDir,
      [
        { key: sent, status: 'confirmed', messageId: '<m1@x>', response: '250 OK' },
        { key: failed, status: 'failed', error: '550 no such user' },
      ],
      clock,
    );
    const claims = await claimSends(dataDir, [sent, failed, pending, fresh], rules, clock);
    expect(claims.map((c) => c.decision)).toEqual(['skip', 'send', 'maybe-sent', 'send']);
    expect(claims[0]!.row).toMatchObject({ status: 'confirmed', message_id: '<m1@x>' });
    expect(claims[3]!.row).toBeUndefined();
    await recordAnswers(
      dataDir,
      [
        { key: failed, status: 'sent', messageId: '<m2@x>', response: '250 queued' },
        { key: fresh, status: 'failed', error: 'connection reset' },
      ],
      clock,
    );
    expect(await rows(dataDir)).toEqual([
      {
        domain: 'a.example',
        recipient: 'usage@a.example',
        status: 'confirmed',
        attempts: 1,
        message_id: '<m1@x>',
        error: null,
        transport: 'smtp',
        response: '250 OK',
      },
      {
        domain: 'b.example',
        recipient: 'usage@b.example',
        status: 'sent',
        attempts: 2,
        message_id: '<m2@x>',
        error: null,
        transport: 'smtp',
        response: '250 queued',
      },
      {
        domain: 'c.example',
        recipient: 'usage@c.example',
        status: 'pending',
        attempts: 1,
        message_id: null,
        error: null,
        transport: 'smtp',
        response: null,
      },
      {
        domain: 'd.example',
        recipient: 'usage@d.example',
        status: 'failed',
        attempts: 1,
        message_id: null,
        error: 'connection reset',
        transport: 'smtp',
        response: null,
      },
    ]);
  });

  it('a key repeated in one batch sees the claim before it, and its last answer wins', async () => {
    const dataDir = await tempDir();
    const k = key('a.example');
    expect((await claimSends(dataDir, [k, key('b.example'), k], rules, clock)).map((c) => c.decision)).toEqual([
      'send',
      'send',
      'maybe-sent',
    ]);
    await recordAnswers(
      dataDir,
      [
        { key: k, status: 'failed', error: 'first' },
        { key: k, status: 'confirmed', messageId: '<m@x>', response: '250 OK' },
      ],
      clock,
    );
    expect((await rows(dataDir))[0]).toMatchObject({ status: 'confirmed', message_id: '<m@x>', error: null });
  });
});
