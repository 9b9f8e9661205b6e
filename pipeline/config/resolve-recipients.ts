/** A customer's recipient list for one domain: `{domain}` filled in, never more addresses than entries. */
import { isDnsHostName, mailAddressProblem } from '../util/mail-address.ts';

/** A configured entry that gives this domain no recipient, and why. */
export interface DroppedRecipient {
  /** The entry as configured, e.g. `usage@{domain}`. */
  template: string;
  reason: string;
}

export interface ResolvedRecipients {
  /** Each exactly one address, in configured order, without repeats. */
  recipients: string[];
  dropped: DroppedRecipient[];
}

/**
 * Fills `{domain}` into each configured entry. A domain name that is not a DNS host name fills
 * nothing (so it can never smuggle in an address), and any result that is not exactly one
 * address is dropped with the reason rather than handed to the mailer.
 */
export function resolveRecipients(templates: readonly string[], domain: string): ResolvedRecipients {
  const recipients: string[] = [];
  const dropped: DroppedRecipient[] = [];
  for (const template of templates) {
    if (template.includes('{domain}') && !isDnsHostName(domain)) {
      dropped.push({
        template,
        reason: `the domain name ${JSON.stringify(domain)} is not a valid DNS host name, so ${JSON.stringify(template)} gives no recipient`,
      });
      continue;
    }
    const address = template.replaceAll('{domain}', domain);
    const problem = mailAddressProblem(address);
    if (problem) {
      dropped.push({ template, reason: `${JSON.stringify(template)} for ${JSON.stringify(domain)}: ${problem}` });
      continue;
    }
    if (!recipients.includes(address)) recipients.push(address);
  }
  return { recipients, dropped };
}
