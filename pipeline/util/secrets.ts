/**
 * Credential scrubbing. A server, a library or a URL may hand a secret back in any spelling:
 * raw, JSON-escaped (`\/`, `\"`, `\u00e9`), percent-encoded (either hex case, `+` for space,
 * even twice), HTML-escaped, or base64 inside a Basic/SMTP AUTH header. Every spelling of every
 * known secret becomes `***` before text is logged, shown or stored.
 */

/** Shorter values would blank out ordinary words; such a secret cannot be scrubbed safely. */
export const MIN_SECRET_LENGTH = 4;

export const SECRET_MASK = '***';

const registry = new Set<string>();
let compiled: { size: number; pattern: RegExp | undefined } = { size: -1, pattern: undefined };

/**
 * Remembers secrets (and their base64) for `scrubKnownSecrets`, and so for `redact`, for the rest
 * of the process.
 * Call it where a secret enters: reading the environment, receiving a token.
 */
export function registerSecrets(...values: (string | undefined)[]): void {
  for (const v of values) {
    if (v === undefined || v.length < MIN_SECRET_LENGTH) continue;
    registry.add(v);
    for (const b of base64Forms(v)) registry.add(b);
  }
}

/** Every secret registered so far. */
export function knownSecrets(): string[] {
  return [...registry];
}

/** The base64 spellings a credential travels in (Basic auth, SMTP AUTH PLAIN/LOGIN). */
export function base64Forms(value: string): string[] {
  const b = Buffer.from(value, 'utf8');
  const std = b.toString('base64');
  const url = b.toString('base64url');
  return [...new Set([std, std.replace(/=+$/, ''), url])];
}

/** HTTP Basic credentials `id:secret` as they appear base64-encoded in an Authorization header. */
export function basicAuthForms(id: string, secret: string): string[] {
  return base64Forms(`${id}:${secret}`);
}

/** SMTP AUTH PLAIN (`\0user\0pass`, with or without an authzid) and AUTH LOGIN (the password alone). */
export function smtpAuthForms(user: string, password: string): string[] {
  return [
    ...base64Forms(`\u0000${user}\u0000${password}`),
    ...base64Forms(`${user}\u0000${user}\u0000${password}`),
    ...base64Forms(password),
  ];
}

/** Replaces every spelling of each of `secrets`, their base64 included, in `text` with `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const usable = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, ...base64Forms(s)]))];
  if (usable.length === 0) return text;
  return text.replace(patternFor(usable), SECRET_MASK);
}

/** `scrubSecrets` over every registered secret. */
export function scrubKnownSecrets(text: string): string {
  if (registry.size === 0) return text;
  if (compiled.size !== registry.size) compiled = { size: registry.size, pattern: patternFor([...registry]) };
  return compiled.pattern ? text.replace(compiled.pattern, SECRET_MASK) : text;
}

function patternFor(secrets: string[]): RegExp {
  // Longest first, so a secret that contains another is masked whole.
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(secretSource).join('|'), 'g');
}

/** A regex source matching `secret` with each character in any of its escaped spellings. */
function secretSource(secret: string): string {
  let out = '';
  for (const ch of secret) out += charSource(ch);
  return out;
}

/** The two-character escapes JSON encoders use (`\/` is PHP's habit). */
const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function charSource(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const alts = new Set<string>([escapeRegex(ch)]);
  // Percent-encoded UTF-8 bytes, once or twice (`%2F`, `%252F`), either hex case.
  const bytes = [...Buffer.from(ch, 'utf8')];
  alts.add(bytes.map((b) => `%${hexSource(b, 2)}`).join(''));
  alts.add(bytes.map((b) => `%25${hexSource(b, 2)}`).join(''));
  if (ch === ' ') alts.add('\\+');
  // JSON, once or twice (JSON quoted inside a JSON string): `\uXXXX` per UTF-16 unit, and the short escapes.
  let units = '';
  for (let i = 0; i < ch.length; i++) units += `\\\\\\\\?u${hexSource(ch.charCodeAt(i), 4)}`;
  alts.add(units);
  const short = JSON_SHORT_ESCAPES[ch];
  if (short !== undefined) {
    alts.add(escapeRegex(short));
    alts.add(escapeRegex(short.replace(/[\\"]/g, '\\$&')));
  }
  // HTML: numeric references and the named ones a template engine emits.
  alts.add(`&#0*${cp};`);
  alts.add(`&#[xX]0*${hexSource(cp, 1)};`);
  const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '=': '&equals;' };
  if (named[ch]) alts.add(named[ch]);
  return `(?:${[...alts].join('|')})`;
}

/** Hex digits of `n`, zero-padded to `width`, in either case. */
function hexSource(n: number, width: number): string {
  const hex = n.toString(16).padStart(width, '0');
  return [...hex].map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d)).join('');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
