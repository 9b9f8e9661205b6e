import { z } from 'zod';
import { apiBaseProblem } from './api-base.ts';
import { lakeUrlProblem, parseLakeUrl, type LakeLocation } from './lake-url.ts';
import { ConfigError } from '../util/errors.ts';
import { mailAddressProblem } from '../util/mail-address.ts';
import { basicAuthForms, registerSecrets, smtpAuthForms } from '../util/secrets.ts';

/** How the client authenticates: a static key, or the OAuth2 password grant. */
export type AuthConfig =
  { kind: 'api-key'; apiKey: string } | { kind: 'oauth'; clientId: string; clientSecret: string; username: string; password: string };

export interface EnvConfig {
  /** API base such as https://pbx.example.com/ns-api/v2; undefined means "the embedded simulator" (demo only). */
  apiUrl: string | undefined;
  auth: AuthConfig | undefined;
  dataDir: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** NS_API_ALLOW_INSECURE: the operator accepts sending credentials over plain http:// to another host. */
  allowInsecureHttp?: boolean;
  /** CDRPIPE_ALERT_WEBHOOK_SECRET: the key alert webhooks are signed with (HMAC-SHA256); never logged. */
  alertWebhookSecret?: string;
}

const nonEmpty = z.string().trim().min(1);

const envSchema = z.object({
  NS_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://pbx.example.com/ns-api/v2' }).optional(),
  NS_API_KEY: nonEmpty.optional(),
  NS_CLIENT_ID: nonEmpty.optional(),
  NS_CLIENT_SECRET: nonEmpty.optional(),
  NS_USERNAME: nonEmpty.optional(),
  NS_PASSWORD: nonEmpty.optional(),
  CDRPIPE_DATA_DIR: nonEmpty.optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be smtp://… or smtps://…' }).optional(),
  // Exactly one address (no name, no list): the mailer would otherwise read several senders.
  MAIL_FROM: z
    .string()
    .superRefine((v, ctx) => {
      const problem = mailAddressProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `must be exactly one address such as reports@example.com: ${problem}` });
    })
    .optional(),
  NS_API_ALLOW_INSECURE: z.enum(['1', '0', 'true', 'false', 'yes', 'no'], { error: 'must be 1 or 0' }).optional(),
  CDRPIPE_ALERT_WEBHOOK_SECRET: z.string().trim().min(16, { error: 'must be at least 16 characters (a random string)' }).optional(),
});

/** Every credential in the environment, and the spellings they travel in, for `redact`. */
function registerEnvSecrets(v: Record<string, string>): void {
  // As given and as used (the schema trims, e.g. the newline of a value read from a file).
  for (const key of ['NS_API_KEY', 'NS_CLIENT_SECRET', 'NS_PASSWORD', 'CDRPIPE_ALERT_WEBHOOK_SECRET'])
    registerSecrets(v[key], v[key]?.trim());
  if (v.NS_CLIENT_ID && v.NS_CLIENT_SECRET) registerSecrets(...basicAuthForms(v.NS_CLIENT_ID.trim(), v.NS_CLIENT_SECRET.trim()));
  for (const key of ['NS_API_URL', 'SMTP_URL']) {
    const url = URL.canParse(v[key] ?? '') ? new URL(v[key]!) : undefined;
    if (!url?.password) continue;
    // URL keeps userinfo percent-encoded; the server and the SMTP library see it decoded.
    const user = safeDecode(url.username);
    const password = safeDecode(url.password);
    registerSecrets(url.password, password, ...smtpAuthForms(user, password));
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reads the contract's environment variables; empty strings count as unset. Never echoes secret values. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const cleaned = pick(env, Object.keys(envSchema.shape));
  // Before validation, so that no message built from here on can show them.
  registerEnvSecrets(cleaned);
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new ConfigError(`environment variable ${field} ${issue.message}`, field);
  }
  const e = parsed.data;
  const allowInsecureHttp = ['1', 'true', 'yes'].includes(e.NS_API_ALLOW_INSECURE ?? '0');
  if (e.NS_API_URL) {
    const problem = apiBaseProblem(new URL(e.NS_API_URL), allowInsecureHttp);
    if (problem) throw new ConfigError(`environment variable NS_API_URL ${problem}`, 'NS_API_URL');
  }
  const oauthKeys = ['NS_CLIENT_ID', 'NS_CLIENT_SECRET', 'NS_USERNAME', 'NS_PASSWORD'] as const;
  const oauthSet = oauthKeys.filter((k) => e[k] !== undefined);
  let auth: AuthConfig | undefined;
  if (e.NS_API_KEY) {
    auth = { kind: 'api-key', apiKey: e.NS_API_KEY };
  } else if (oauthSet.length > 0) {
    const missing = oauthKeys.filter((k) => e[k] === undefined);
    if (missing.length > 0) {
      throw new ConfigError(
        `OAuth needs all of ${oauthKeys.join(', ')}; missing ${missing.join(', ')} (or set NS_API_KEY instead)`,
        missing[0],
      );
    }
    auth = {
      kind: 'oauth',
      clientId: e.NS_CLIENT_ID!,
      clientSecret: e.NS_CLIENT_SECRET!,
      username: e.NS_USERNAME!,
      password: e.NS_PASSWORD!,
    };
  }
  if (e.NS_API_URL && !auth) {
    throw new ConfigError(
      'NS_API_URL is set but no credentials are: set NS_API_KEY, or NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD',
      'NS_API_KEY',
    );
  }
  return {
    apiUrl: e.NS_API_URL?.replace(/\/+$/, ''),
    auth,
    dataDir: e.CDRPIPE_DATA_DIR ?? './data',
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? 'reports@localhost',
    allowInsecureHttp,
    alertWebhookSecret: e.CDRPIPE_ALERT_WEBHOOK_SECRET,
  };
}

/** pino's levels; CDRPIPE_LOG_LEVEL must be one of them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Settings of the process itself (not of the PBX or mail): every command may read these. */
export interface ProcessSettings {
  /** CDRPIPE_LOG_LEVEL; undefined = the command's own default (info, or warn under a progress display). */
  logLevel: LogLevel | undefined;
  /** CDRPIPE_CONFIG: the config file when no --config is given; undefined = the project's jobs.config.ts. */
  configPath: string | undefined;
}

const processSchema = z.object({
  CDRPIPE_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
  CDRPIPE_CONFIG: nonEmpty.optional(),
});

/** The given variables only, empty strings left out (they count as unset). */
function pick(env: NodeJS.ProcessEnv, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out[key] = v;
  }
  return out;
}

/** Reads CDRPIPE_LOG_LEVEL and CDRPIPE_CONFIG; a bad value is a ConfigError naming the variable. */
export function readProcessSettings(env: NodeJS.ProcessEnv = process.env): ProcessSettings {
  const parsed = processSchema.safeParse(pick(env, Object.keys(processSchema.shape)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new ConfigError(`environment variable ${field} ${issue.message}`, field);
  }
  return { logLevel: parsed.data.CDRPIPE_LOG_LEVEL, configPath: parsed.data.CDRPIPE_CONFIG };
}

const debugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => v !== '' && !['0', 'false', 'no', 'off'].includes(v));

/**
 * CDRPIPE_DEBUG: set (to anything but 0/false/no/off) the CLI also prints the (redacted) stack of
 * an error. Never throws: the CLI's error handler reads it.
 */
export function readDebugFlag(env: NodeJS.ProcessEnv = process.env): boolean {
  return debugSchema.safeParse(env.CDRPIPE_DEBUG ?? '').data ?? false;
}

/** OAuth2 password-grant credentials the simulator accepts besides its API keys. */
export interface SimulatorOAuth {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

const simulatorOAuthSchema = z.object({ NS_CLIENT_ID: nonEmpty, NS_CLIENT_SECRET: nonEmpty, NS_USERNAME: nonEmpty, NS_PASSWORD: nonEmpty });

/**
 * `cdrpipe simulate` accepts the same NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD a
 * client would send, so the two can share one environment; undefined unless all four are set.
 */
export function readSimulatorOAuth(env: NodeJS.ProcessEnv = process.env): SimulatorOAuth | undefined {
  const parsed = simulatorOAuthSchema.safeParse(pick(env, Object.keys(simulatorOAuthSchema.shape)));
  if (!parsed.success) return undefined;
  const e = parsed.data;
  return { clientId: e.NS_CLIENT_ID, clientSecret: e.NS_CLIENT_SECRET, username: e.NS_USERNAME, password: e.NS_PASSWORD };
}

/**
 * Runs `fn` with one environment variable set for a library that is configured only that way
 * (tsx's CommonJS resolver reads TSX_TSCONFIG_PATH), restoring the previous value afterwards.
 */
export async function withEnvVariable<T>(name: string, value: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (value === undefined) return fn();
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

/** Where the lake's bucket is and how to reach it: CDRPIPE_LAKE_URL and the standard AWS variables. */
export interface StoreEnv {
  lake: LakeLocation;
  /** AWS_REGION (or AWS_DEFAULT_REGION); us-east-1 when neither is set, which S3-compatible stores accept. */
  region: string;
  /** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; set means an S3-compatible store, addressed path-style. */
  endpoint: string | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const storeSchema = z.object({
  CDRPIPE_LAKE_URL: z
    .string()
    .superRefine((v, ctx) => {
      const problem = lakeUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  AWS_ACCESS_KEY_ID: nonEmpty.optional(),
  AWS_SECRET_ACCESS_KEY: nonEmpty.optional(),
  AWS_SESSION_TOKEN: nonEmpty.optional(),
  AWS_REGION: nonEmpty.optional(),
  AWS_DEFAULT_REGION: nonEmpty.optional(),
  AWS_ENDPOINT_URL_S3: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://s3.example.com' }).optional(),
  AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://s3.example.com' }).optional(),
});

/**
 * Reads CDRPIPE_LAKE_URL and, when it is set, the AWS variables the bucket needs; undefined when
 * the lake is the data directory's own lake/. Keys are required: the SDK's other credential
 * sources (profiles, instance metadata) are not consulted, so a missing key is a clear error here
 * rather than a network call somewhere else. A bad value is a ConfigError naming the variable.
 */
export function readStoreEnv(env: NodeJS.ProcessEnv = process.env): StoreEnv | undefined {
  const cleaned = pick(env, Object.keys(storeSchema.shape));
  registerSecrets(cleaned.AWS_SECRET_ACCESS_KEY, cleaned.AWS_SECRET_ACCESS_KEY?.trim(), cleaned.AWS_SESSION_TOKEN?.trim());
  const parsed = storeSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new ConfigError(`environment variable ${field} ${issue.message}`, field);
  }
  const e = parsed.data;
  if (!e.CDRPIPE_LAKE_URL) return undefined;
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
    if (!e[key]) throw new ConfigError(`CDRPIPE_LAKE_URL is set but ${key} is not: the bucket's access key and secret are needed`, key);
  }
  return {
    lake: parseLakeUrl(e.CDRPIPE_LAKE_URL),
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: (e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL)?.replace(/\/+$/, ''),
    credentials: {
      accessKeyId: e.AWS_ACCESS_KEY_ID!.trim(),
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY!.trim(),
      ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN.trim() } : {}),
    },
  };
}

/** {@link withEnvVariable} for synchronous work (a library that reads the variable in its constructor). */
export function withEnvVariableSync<T>(name: string, value: string, fn: () => T): T {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}
