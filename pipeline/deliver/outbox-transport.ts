/** Without SMTP_URL, messages become .eml files in data/outbox/ (written aside, then renamed). */
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { encodePartitionValue } from '../lake/index.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import type { Clock } from '../util/clock.ts';
import { assertSingleRecipient, toNodemailerMessage, type MailTransport, type OutgoingMail, type SendResult } from './mail-transport.ts';

/** File name from the message's report headers and the recipient, e.g. 2026-10_monthly-usage_acme.example_usage%40acme.example_1761...eml */
function emlName(mail: OutgoingMail, clock: Clock): string {
  const tag = mail.headers?.['X-Cdrpipe-Report'] ?? 'message';
  const [report = 'message', month = 'month', domain = 'all'] = tag.split(';').map((s) => s.trim());
  const stamp = clock.now().toISOString().replace(/[:.]/g, '');
  return [month, report, domain, mail.to.address].map((p) => encodePartitionValue(p || '_')).join('_') + `_${stamp}.eml`;
}

export function createOutboxTransport(dir: string, clock: Clock): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    kind: 'outbox',
    description: `outbox ${dir}`,
    async send(mail: OutgoingMail, signal?: AbortSignal): Promise<SendResult> {
      signal?.throwIfAborted();
      const info = await transporter.sendMail(toNodemailerMessage(mail));
      // An .eml that reaches no one (or more than its one recipient) is not a sent message.
      assertSingleRecipient(info.envelope, mail);
      const final = join(dir, emlName(mail, clock));
      await writeFileAtomic(final, info.message as Buffer);
      return { messageId: info.messageId, response: `written to ${final}`, confirmed: false };
    },
    async close() {},
  };
}
