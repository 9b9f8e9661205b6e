import type { EnvConfig } from '../config/index.ts';
import type { MailTransport } from '../deliver/index.ts';
import { createTransportFromEnv } from '../deliver/index.ts';
import type { Clock } from '../util/clock.ts';
import { mailAddressProblem, toMailbox } from '../util/mail-address.ts';
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
      // Config validation already refuses a bad address; this keeps a list from ever being one string.
      const bad = message.to.map(mailAddressProblem).filter((p): p is string => p !== undefined);
      const good = message.to.filter((to) => mailAddressProblem(to) === undefined);
      const from = toMailbox(args.env.mailFrom, 'MAIL_FROM');
      const transport = open();
      try {
        const day = args.clock.now().toISOString().slice(0, 10);
        for (const to of good) {
          await transport.send(
            {
              from,
              to: toMailbox(to),
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
      if (bad.length > 0)
        throw new Error(`alert recipient ${bad.join('; ')}: not sent (fix reseller.operatorEmail / reseller.billingEmails)`);
    },
  };
}
