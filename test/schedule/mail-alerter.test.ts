import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { outboxDir } from '../../pipeline/lake/layout.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { createMailAlerter } from '../../pipeline/schedule/mail-alerter.ts';
import { testEnv } from './helpers.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('mail alerter', () => {
  it('without SMTP_URL writes one .eml per recipient into the outbox', async () => {
    const tmp = await tempDir();
    const alerter = createMailAlerter({ env: testEnv(tmp), dataDir: tmp, clock: new FixedClock(new Date('2026-12-01T11:00:00Z')) });
    await alerter.send({
      to: ['ops@test.example', 'billing@test.example'],
      subject: '[cdrpipe] job ingest failed',
      text: 'error: <boom> & more',
    });
    const files = (await readdir(outboxDir(tmp))).sort();
    expect(files).toHaveLength(2);
    const eml = await readFile(join(outboxDir(tmp), files[0]!), 'utf8');
    expect(eml).toContain('Subject: [cdrpipe] job ingest failed');
    expect(eml).toMatch(/To: (ops|billing)@test\.example/);
    expect(eml).toContain('error: <boom> & more');
  });

  it('sends each valid recipient its own message and refuses an entry that is not one address', async () => {
    const tmp = await tempDir();
    const alerter = createMailAlerter({ env: testEnv(tmp), dataDir: tmp, clock: new FixedClock(new Date('2026-12-01T11:00:00Z')) });
    await expect(
      alerter.send({ to: ['ops@test.example', 'a@x.example, attacker@evil.example'], subject: '[cdrpipe] job ingest failed', text: 'x' }),
    ).rejects.toThrow(/alert recipient "a@x\.example, attacker@evil\.example" holds 2 addresses/);
    const files = await readdir(outboxDir(tmp));
    expect(files).toHaveLength(1);
    const mail = await simpleParser(await readFile(join(outboxDir(tmp), files[0]!)));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual(['ops@test.example']);
  });
});
