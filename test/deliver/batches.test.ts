/**
 * Delivery in batches (one open of state.duckdb to claim a batch, one to record its answers):
 * every message is still sent once and logged, and a run interrupted mid-batch leaves what it
 * never handed over as failed (sent by the next run), never as pending.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliver, type DeliveryItem } from '../../pipeline/deliver/deliver.ts';
import type { MailTransport } from '../../pipeline/deliver/mail-transport.ts';
import { createOutboxTransport } from '../../pipeline/deliver/outbox-transport.ts';
import { withState } from '../../pipeline/state/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';

const clock = new FixedClock(new Date('2026-11-01T06:00:00Z'));

function items(n: number): DeliveryItem[] {
  return Array.from({ length: n }, (_, i) => {
    const recipient = `usage@d${i}.example`;
    return {
      report: 'monthly-usage',
      domain: `d${i}.example`,
      month: '2026-10',
      recipient,
      mail: {
        from: { name: '', address: 'reports@reseller.example' },
        to: { name: '', address: recipient },
        subject: `report ${i}`,
        html: '<p>hi</p>',
        text: 'hi',
        attachments: [],
      },
    };
  });
}

const statuses = (dataDir: string) =>
  withState(dataDir, (db) => db.all<{ domain: string; status: string }>(`SELECT domain, status FROM sends ORDER BY domain`));

describe('delivery in batches', () => {
  it('sends and logs every message once across batches, and a re-run sends none', async () => {
    const dataDir = await tempDir();
    const transport = createOutboxTransport(join(dataDir, 'outbox'), clock);
    const opts = { dataDir, transport, clock, logger: silentLogger(), batchSize: 2 };
    const first = await deliver(items(5), opts);
    expect(first).toMatchObject({ sent: 5, skipped: 0, failed: 0, maybeSent: 0 });
    expect((await statuses(dataDir)).map((r) => r.status)).toEqual(Array(5).fill('sent'));
    expect(await deliver(items(5), opts)).toMatchObject({ sent: 0, skipped: 5 });
  });

  it('an interrupted run records what it never handed over as failed, and the next run sends exactly those', async () => {
    const dataDir = await tempDir();
    const outbox = createOutboxTransport(join(dataDir, 'outbox'), clock);
    const stop = new AbortController();
    const handed: string[] = [];
    // Stops the run once two messages have gone: the rest of the batch is claimed but never sent.
    const stopping: MailTransport = {
      kind: outbox.kind,
      description: outbox.description,
      async send(mail, signal) {
        const r = await outbox.send(mail, signal);
        handed.push(mail.to.address);
        if (handed.length === 2) stop.abort(new Error('stopped'));
        return r;
      },
      close: () => outbox.close(),
    };
    const run = await deliver(items(4), {
      dataDir,
      transport: stopping,
      clock,
      logger: silentLogger(),
      signal: stop.signal,
      batchSize: 4,
      concurrency: 1,
      retry: { attempts: 1 },
    });
    expect(run).toMatchObject({ sent: 2, failed: 2, maybeSent: 0 });
    expect((await statuses(dataDir)).map((r) => r.status).sort()).toEqual(['failed', 'failed', 'sent', 'sent']);

    const again = await deliver(items(4), { dataDir, transport: outbox, clock, logger: silentLogger() });
    expect(again).toMatchObject({ sent: 2, skipped: 2, failed: 0 });
    const resent = again.outcomes.filter((o) => o.outcome === 'sent').map((o) => o.recipient);
    expect(resent.some((r) => handed.includes(r))).toBe(false);
  });
});
