/** What delivery needs from a mail transport: send one message, tell what the server said, close. */

export interface MailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

/** One message to one recipient (each recipient gets its own message and its own send-log row). */
export interface OutgoingMail {
  from: string;
  to: string;
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
