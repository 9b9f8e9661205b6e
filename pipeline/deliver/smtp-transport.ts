/** SMTP delivery through a pooled, rate-limited nodemailer transport built from SMTP_URL. */
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { toNodemailerMessage, type MailTransport, type OutgoingMail, type SendResult } from './mail-transport.ts';

/** The rate toward a mail server that is not on loopback, unless configured (providers throttle bursts). */
export const DEFAULT_MESSAGES_PER_SECOND = 5;

/** Connections toward a server that is not on loopback, unless configured. */
export const DEFAULT_SMTP_CONNECTIONS = 4;
/**
 * Connections toward a relay on loopback, unless configured: it accepts in parallel what it
 * queues, and 16 stays under the common MTAs' own defaults (Postfix serves up to 100 SMTP
 * sessions at once, Exim 20). Measured with `npm run bench -- --only reports`: 4 connections
 * gave 36-40 reports per second, 8 gave 45-46, 16 gave 50-53.
 */
export const LOOPBACK_SMTP_CONNECTIONS = 16;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

/**
 * The SMTP connections (and messages in flight) of a run: `configured`, else 16 toward a relay on
 * loopback and 4 otherwise (also without SMTP_URL, or with one that does not parse).
 */
export function smtpConnectionsFor(configured: number | undefined, smtpUrl: string | undefined): number {
  if (configured !== undefined) return configured;
  if (smtpUrl === undefined) return DEFAULT_SMTP_CONNECTIONS;
  try {
    return isLoopbackHost(new URL(smtpUrl).hostname) ? LOOPBACK_SMTP_CONNECTIONS : DEFAULT_SMTP_CONNECTIONS;
  } catch {
    return DEFAULT_SMTP_CONNECTIONS;
  }
}

export interface SmtpTransportOptions {
  /** Parallel connections in the pool (default: see smtpConnectionsFor). */
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
    maxConnections: opts.maxConnections ?? (loopback ? LOOPBACK_SMTP_CONNECTIONS : DEFAULT_SMTP_CONNECTIONS),
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
