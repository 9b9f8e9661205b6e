import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../pipeline/config/env.ts';
import { redact, redactDeep } from '../../pipeline/util/errors.ts';
import { createLogger } from '../../pipeline/util/logger.ts';
import { basicAuthForms, registerSecrets, scrubSecrets, smtpAuthForms } from '../../pipeline/util/secrets.ts';

const KEY = 'nsr_abc/def+ghi== jkl"mn\\op&qé€😀';
registerSecrets(KEY);

const jsonInner = (s: string) => JSON.stringify(s).slice(1, -1);
const phpJsonInner = (s: string) =>
  jsonInner(s)
    .replace(/\//g, '\\/')
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const spellings: [string, string][] = [
  ['raw', KEY],
  ['JSON-escaped', jsonInner(KEY)],
  ['JSON-escaped with \\/ and \\u escapes (PHP)', phpJsonInner(KEY)],
  ['JSON-escaped twice', jsonInner(jsonInner(KEY))],
  ['JSON-escaped twice, PHP style', jsonInner(phpJsonInner(KEY))],
  ['URL-encoded, upper-case hex', encodeURIComponent(KEY)],
  ['URL-encoded, lower-case hex', encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
  ['form-encoded (+ for space)', new URLSearchParams({ k: KEY }).toString().slice(2)],
  ['URL-encoded twice', encodeURIComponent(encodeURIComponent(KEY))],
  ['HTML-escaped (named)', KEY.replace(/&/g, '&amp;').replace(/"/g, '&quot;')],
  ['HTML-escaped (numeric)', [...KEY].map((c) => `&#${c.codePointAt(0)};`).join('')],
  ['HTML-escaped (hex)', [...KEY].map((c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`).join('')],
  ['base64', Buffer.from(KEY).toString('base64')],
  ['base64url', Buffer.from(KEY).toString('base64url')],
];

describe('redact: a registered secret in any spelling', () => {
  it.each(spellings)('%s', (_name, spelled) => {
    const out = redact(`server said <${spelled}> to us`);
    expect(out).toBe('server said <***> to us');
  });

  it('also inside JSON-like values, and leaves other text alone', () => {
    expect(redactDeep({ a: [`x ${encodeURIComponent(KEY)}`], n: 3, ok: 'nothing secret' })).toEqual({
      a: ['x ***'],
      n: 3,
      ok: 'nothing secret',
    });
  });
});

describe('scrubSecrets with composite credentials', () => {
  it('hides HTTP Basic client_id:client_secret and SMTP AUTH PLAIN/LOGIN', () => {
    const basic = Buffer.from('client-a:s3cr"t/x').toString('base64');
    expect(scrubSecrets(`Authorization: Basic ${basic}`, basicAuthForms('client-a', 's3cr"t/x'))).toBe('Authorization: Basic ***');
    const plain = Buffer.from('\u0000mailer\u0000p@ss word').toString('base64');
    const login = Buffer.from('p@ss word').toString('base64');
    expect(scrubSecrets(`AUTH PLAIN ${plain} / ${login}`, smtpAuthForms('mailer', 'p@ss word'))).toBe('AUTH PLAIN *** / ***');
  });
});

describe('redact without knowing the secret', () => {
  it('hides a whole JSON password field, a quote in the password included', () => {
    const body = JSON.stringify({ grant_type: 'password', password: 'ab"TAILcd', client_secret: 'q\\w"TAIL2' });
    const out = redact(body);
    expect(out).not.toMatch(/TAIL/);
    expect(JSON.parse(out)).toEqual({ grant_type: 'password', password: '***', client_secret: '***' });
    expect(redact(JSON.stringify({ m: body }))).not.toMatch(/TAIL/);
  });

  it('hides URL userinfo passwords, bearer and basic tokens, and form fields', () => {
    expect(redact('smtps://u:p4ss@mail.example.com:465')).toBe('smtps://u:***@mail.example.com:465');
    expect(redact('authorization: Bearer abc.def-ghi; Authorization: Basic dXNlcjpwYXNz')).toBe(
      'authorization: Bearer ***; Authorization: Basic ***',
    );
    expect(redact('Basic Standards plan')).toBe('Basic Standards plan');
    expect(redact('grant_type=password&password=hunter22&x=1')).toBe('grant_type=password&password=***&x=1');
  });
});

describe('secrets from the environment', () => {
  it('are known to redact once read, as given and as used (trimmed), the SMTP password decoded', () => {
    readEnv({
      NS_API_URL: 'https://pbx.example.com/ns-api/v2',
      NS_API_KEY: 'nsr_from_file_key\n',
      SMTP_URL: 'smtps://mailer:m%40il%20pw@mail.example.com:465',
    });
    expect(redact('key nsr_from_file_key refused')).toBe('key *** refused');
    expect(redact('535 auth failed for m@il pw')).toBe('535 auth failed for ***');
    expect(redact(`AUTH PLAIN ${Buffer.from('\u0000mailer\u0000m@il pw').toString('base64')}`)).toBe('AUTH PLAIN ***');
  });
});

describe('the logger', () => {
  it('redacts messages, fields and errors', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination: sink });
    logger.warn({ detail: `echo ${encodeURIComponent(KEY)}`, nested: { why: [jsonInner(KEY)] } }, `failed with ${KEY}`);
    logger.error({ err: new Error(`boom ${Buffer.from(KEY).toString('base64')}`) }, 'job failed');
    expect(out).not.toMatch(/abc|jkl|ghi|bnNyX2Fi/);
    expect(out).toMatch(/"detail":"echo \*\*\*"/);
    expect(out).toMatch(/"msg":"failed with \*\*\*"/);
    expect(out).toMatch(/"message":"boom \*\*\*"/);
  });
});
