import type { EnvConfig } from '../config/env.ts';
import type { MailTransport } from '../deliver/mail-transport.ts';
import { createTransportFromEnv } from '../deliver/create-transport.ts';
import type { Clock } from '../util/clock.ts';
import type { AlertMessage, Alerter } from './job-types.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * Alerts as plain emails through the delivery stage's transports: SMTP when SMTP_URL is set,
 * otherwise an .eml in data/outbox/. A transport is opened per alert and closed after it, so
 * a long-running scheduler holds no idle SMTP connection.
 */
export function createMailAlerter(args: { env: EnvConfig; dataDir: string; clock: Clock; transport?: () => MailTransport }): Alerter {
  const open = args.transport ?? (() => createTransportFromEnv(args.env, args.dataDir, args.clock));
  return {
    async send(message: AlertMessage, signal?: AbortSignal): Promise<void> {
      const transport = open();
      try {
        const day = args.clock.now().toISOString().slice(0, 10);
        for (const to of message.to) {
          await transport.send(
            {
              from: args.env.mailFrom,
              to,
              subject: message.subject,
              text: message.text,
              html: `<pre style="font-family: ui-monospace, monospace">${escapeHtml(message.text)}</pre>`,
              attachments: [],
              headers: { 'X-Cdrpipe-Report': `alert;${day};all` },
            },
            signal,
          );
        }
      } finally {
        await transport.close();
      }
    },
  };
}
