/** SMTP delivery through a pooled, rate-limited nodemailer transport built from SMTP_URL. */
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { toNodemailerMessage, type MailTransport, type OutgoingMail, type SendResult } from './mail-transport.ts';

/** The rate toward a mail server that is not on loopback, unless configured (providers throttle bursts). */
export const DEFAULT_MESSAGES_PER_SECOND = 5;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

export interface SmtpTransportOptions {
  /** Parallel connections in the pool. */
  maxConnections?: number;
  /**
   * Messages per second across the pool (nodemailer rateLimit per rateDelta=1 s). Default: none
   * on loopback (a local relay queues what it accepts), DEFAULT_MESSAGES_PER_SECOND elsewhere.
   */
  messagesPerSecond?: number;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/**
 * The nodemailer options for an smtp:// or smtps:// URL: smtps is implicit TLS; smtp must upgrade
 * with STARTTLS (requireTLS) unless the host is loopback, where a local relay may have no TLS.
 */
export function smtpOptionsFromUrl(smtpUrl: string, opts: SmtpTransportOptions = {}): SMTPPool.Options {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    // The value is not echoed: an unparseable URL may still hold a password.
    throw new Error('SMTP_URL is not a URL (expected smtp://user:pass@host:587 or smtps://user:pass@host:465)');
  }
  const secure = url.protocol === 'smtps:';
  if (!secure && url.protocol !== 'smtp:') throw new Error(`SMTP_URL must start with smtp:// or smtps://, got ${url.protocol}//`);
  const host = url.hostname;
  const loopback = isLoopbackHost(host);
  const rate = opts.messagesPerSecond ?? (loopback ? undefined : DEFAULT_MESSAGES_PER_SECOND);
  return {
    pool: true,
    host: host.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && !loopback,
    tls: { minVersion: 'TLSv1.2', servername: loopback ? undefined : host },
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    maxConnections: opts.maxConnections ?? 2,
    maxMessages: 100,
    ...(rate === undefined ? {} : { rateDelta: 1000, rateLimit: rate }),
    connectionTimeout: opts.connectionTimeoutMs ?? 30_000,
    greetingTimeout: opts.connectionTimeoutMs ?? 30_000,
    socketTimeout: opts.socketTimeoutMs ?? 60_000,
  };
}

/** A pooled SMTP transport; `close()` ends the pool's connections. */
export function createSmtpTransport(smtpUrl: string, opts: SmtpTransportOptions = {}): MailTransport {
  const options = smtpOptionsFromUrl(smtpUrl, opts);
  const transporter = nodemailer.createTransport(options);
  return {
    kind: 'smtp',
    description: `${options.secure ? 'smtps' : 'smtp'}://${options.host}:${options.port}`,
    async send(mail: OutgoingMail, signal?: AbortSignal): Promise<SendResult> {
      signal?.throwIfAborted();
      const info = await transporter.sendMail(toNodemailerMessage(mail));
      const accepted = (info.accepted as Array<string | { address: string }>).map((a) => (typeof a === 'string' ? a : a.address));
      if (info.rejected.length > 0 || accepted.length !== 1 || accepted[0] !== mail.to.address) {
        const err = new Error(`the server did not accept the recipient: ${String(info.response ?? '')}`) as Error & {
          responseCode?: number;
        };
        err.responseCode = 550;
        throw err;
      }
      return { messageId: info.messageId, response: String(info.response ?? ''), confirmed: /^2\d\d/.test(String(info.response ?? '')) };
    },
    async close() {
      transporter.close();
    },
  };
}
