/** Picks the transport from the environment: SMTP_URL means a mail server, otherwise the outbox. */
import type { EnvConfig } from '../config/index.ts';
import { outboxDir } from '../lake/index.ts';
import type { Clock } from '../util/clock.ts';
import type { MailTransport } from './mail-transport.ts';
import { createOutboxTransport } from './outbox-transport.ts';
import { createSmtpTransport, type SmtpTransportOptions } from './smtp-transport.ts';

export function createTransportFromEnv(
  env: Pick<EnvConfig, 'smtpUrl'>,
  dataDir: string,
  clock: Clock,
  smtp: SmtpTransportOptions = {},
): MailTransport {
  return env.smtpUrl ? createSmtpTransport(env.smtpUrl, smtp) : createOutboxTransport(outboxDir(dataDir), clock);
}
