/** What delivery needs from a mail transport: send one message, tell what the server said, close. */
import { toMailbox, type Mailbox } from '../util/mail-address.ts';
import { quotedPrintable } from './quoted-printable.ts';

export type { Mailbox };

export interface MailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

/** One message to one recipient (each recipient gets its own message and its own send-log row). */
export interface OutgoingMail {
  /** Mailbox objects, never strings: nodemailer splits a string at commas into several addresses. */
  from: Mailbox;
  to: Mailbox;
  subject: string;
  html: string;
  text: string;
  attachments: MailAttachment[];
  headers?: Record<string, string>;
}

export interface SendResult {
  /** The Message-ID header of the message as sent. */
  messageId: string;
  /** The server's final reply (e.g. "250 OK: queued as 1A2B"), or where the .eml went. */
  response: string;
  /** True when a mail server accepted the message (250); false for the outbox. */
  confirmed: boolean;
}

export const TRANSPORT_KINDS = ['smtp', 'outbox'] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number] | (string & {});

/** Injectable into runReports for tests (wrap a real transport to add faults). */
export interface MailTransport {
  readonly kind: TransportKind;
  /** Where mail goes, for the summary; never contains credentials. */
  readonly description: string;
  send(mail: OutgoingMail, signal?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * The message as handed to nodemailer: the addresses re-checked (a transport is the last point
 * before a recipient is added) and the SMTP envelope set to exactly the one recipient, so no
 * header parsing can widen it. Throws InvalidMailAddressError for an address that is not one.
 */
export function toNodemailerMessage(mail: OutgoingMail) {
  const from = toMailbox(mail.from.address, 'sender');
  const to = toMailbox(mail.to.address, 'recipient');
  // A part may come pre-encoded only where it is a part of its own (never the message's root node).
  const ownParts = mail.attachments.length > 0 && mail.html !== '' && mail.text !== '';
  return {
    ...mail,
    html: textPart(mail.html, 'text/html', ownParts),
    text: textPart(mail.text, 'text/plain', ownParts),
    from: { name: mail.from.name, address: from.address },
    to: [{ name: mail.to.name, address: to.address }],
    envelope: { from: from.address, to: [to.address] },
  };
}

/** Throws unless the envelope the library built has exactly the one intended recipient. */
export function assertSingleRecipient(envelope: { to?: unknown } | undefined, mail: OutgoingMail): void {
  const to = envelope?.to;
  if (!Array.isArray(to) || to.length !== 1 || to[0] !== mail.to.address) {
    throw new Error(`the message to ${JSON.stringify(mail.to.address)} was built for ${JSON.stringify(to ?? [])}: not delivered`);
  }
}

/** A line longer than 76 characters (nodemailer's reason to leave 7bit). */
const LONG_LINE = /^.{77,}/m;

/**
 * The transfer encoding nodemailer would choose for a text part, decided in one pass: a part
 * with no control or non-ASCII character and no long line goes as 7bit (left to nodemailer);
 * otherwise quoted-printable when Latin letters outnumber control and non-ASCII characters, else
 * base64. nodemailer makes the same count with two regex matches that build an array of every
 * letter, which cost more than the rest of sending a 60 KB report.
 */
export function textTransferEncoding(content: string): 'quoted-printable' | 'base64' | undefined {
  if (content === '') return undefined;
  let latin = 0;
  let nonLatin = 0;
  for (let i = 0; i < content.length; i++) {
    const c = content.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) latin++;
    else if (c <= 0x08 || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c >= 0x80) nonLatin++;
  }
  // nodemailer treats a part over 128 KB as having long lines without looking.
  if (nonLatin === 0 && content.length <= 128 * 1024 && !LONG_LINE.test(content)) return undefined;
  return nonLatin < latin ? 'quoted-printable' : 'base64';
}

/**
 * A text part as nodemailer takes it: the plain string (7bit), the string with its encoding, or,
 * for quoted-printable in a part of its own, the part ready-made (`raw`: the headers nodemailer
 * writes for it and the body its encoder would produce, built by ./quoted-printable.ts at a
 * fraction of the cost).
 */
function textPart(
  content: string,
  type: 'text/html' | 'text/plain',
  mayBeRaw: boolean,
): string | { content: string; contentTransferEncoding: string } {
  const encoding = textTransferEncoding(content);
  if (encoding === 'quoted-printable' && mayBeRaw) {
    const raw = `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${quotedPrintable(content)}`;
    // nodemailer's composer takes `raw` on a text part as on an attachment; its types leave it out.
    return { raw } as unknown as { content: string; contentTransferEncoding: string };
  }
  return encoding ? { content, contentTransferEncoding: encoding } : content;
}
