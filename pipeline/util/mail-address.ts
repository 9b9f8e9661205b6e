/**
 * What counts as one mail address: exactly one RFC 5321 mailbox, `local-part@host`, with a
 * dot-string local part and a DNS host name. Anything a mail library could read as several
 * addresses, a group, a display name or a comment is refused, so a configured string (or a
 * domain name substituted into one) can never add a recipient.
 */
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { CdrpipeError } from './errors.ts';

/** One mailbox as nodemailer takes it: an object, never a string it could split. */
export interface Mailbox {
  name: string;
  address: string;
}

// RFC 5321 Dot-string: atext runs joined by single dots.
const DOT_STRING = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * True for a DNS host name (RFC 1123 labels of letters, digits and inner hyphens, at most 63
 * characters each, 253 in all; the last label not all digits, so an IP address is not one).
 */
export function isDnsHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * Why `text` is not exactly one address (a sentence fragment such as `holds 2 addresses ...`),
 * or undefined when it is one.
 */
export function mailAddressProblem(text: string): string | undefined {
  const shown = JSON.stringify(text);
  if (text.trim() === '') return 'is empty: expected one address such as ops@example.com';
  // The library's reading decides how many addresses a mail client would see in the string.
  const parsed = addressparser(text);
  const found = parsed.flatMap((p) => ('group' in p ? p.group : [p])).filter((p) => p.address !== '');
  if (parsed.some((p) => 'group' in p)) return `${shown} is an address group; expected exactly one address such as ops@example.com`;
  if (found.length > 1) return `${shown} holds ${found.length} addresses; a recipient is exactly one address (give each its own entry)`;
  const at = text.lastIndexOf('@');
  if (found.length === 0 || at < 0) return `${shown} is not an address; expected one address such as ops@example.com`;
  if (found[0]!.address !== text || parsed.length !== 1 || parsed[0]!.name !== '') {
    return `${shown} is not a bare address; write only local-part@host, such as ops@example.com (no name, <>, quotes, comments or spaces)`;
  }
  const local = text.slice(0, at);
  const host = text.slice(at + 1);
  if (!DOT_STRING.test(local))
    return `${shown} has an invalid local part ${JSON.stringify(local)} (letters, digits and !#$%&'*+/=?^_\`{|}~- joined by single dots)`;
  if (local.length > 64) return `${shown} has a local part longer than 64 characters`;
  if (!isDnsHostName(host)) return `${shown} has ${JSON.stringify(host)} after the @, which is not a DNS host name`;
  if (text.length > 254) return `${shown} is longer than 254 characters`;
  return undefined;
}

/** An address that failed mailAddressProblem(); never retried, as it cannot get better. */
export class InvalidMailAddressError extends CdrpipeError {
  override readonly name = 'InvalidMailAddressError';
  constructor(
    readonly address: string,
    problem: string,
    readonly field?: string,
  ) {
    super(`${field ? `${field}: ` : ''}${problem}`);
  }
}

/** The mailbox for one address; throws InvalidMailAddressError (naming `field`) when it is not exactly one. */
export function toMailbox(address: string, field?: string): Mailbox {
  const problem = mailAddressProblem(address);
  if (problem) throw new InvalidMailAddressError(address, problem, field);
  return { name: '', address };
}
