/**
 * A message's text parts get the transfer encoding nodemailer would choose itself (decided up
 * front in one pass instead of by nodemailer's costly count): the MIME message is byte for byte
 * the one nodemailer builds from the plain strings.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { textTransferEncoding, toNodemailerMessage, type OutgoingMail } from '../../pipeline/deliver/mail-transport.ts';

const fixed = { baseBoundary: 'b0', date: new Date('2026-11-01T06:00:00Z'), messageId: '<m@x>' };
const build = (msg: object) => new MailComposer({ ...msg, ...fixed }).compile().build();

const mail = (html: string, text: string): OutgoingMail => ({
  from: { name: '', address: 'reports@reseller.example' },
  to: { name: '', address: 'usage@acme.example' },
  subject: 'Usage · October',
  html,
  text,
  attachments: [{ filename: 'calls.csv', content: 'a,b\r\n1,2\r\n', contentType: 'text/csv; charset=utf-8' }],
});

const SAMPLES = [
  '',
  'short plain lines\nonly',
  `<td>${'x'.repeat(120)}</td>`,
  `Café · ${'long line of Latin text '.repeat(8)}`,
  '東京 大阪 名古屋 札幌 福岡 '.repeat(20),
  `tab\tand\x01control ${'é'.repeat(50)} ab`,
  `${'y'.repeat(130 * 1024)}`,
];

describe('text part transfer encoding', () => {
  it('is the encoding nodemailer chooses, so the built message is unchanged', async () => {
    const seen = new Set<string | undefined>();
    for (const html of SAMPLES) {
      for (const text of SAMPLES.slice(0, 4)) {
        const m = mail(html, text);
        const plain = { ...toNodemailerMessage(m), html: m.html, text: m.text };
        expect((await build(toNodemailerMessage(m))).toString()).toBe((await build(plain)).toString());
      }
      seen.add(textTransferEncoding(html));
    }
    // The samples cover every choice.
    expect(seen).toEqual(new Set([undefined, 'quoted-printable', 'base64']));
  });
});
