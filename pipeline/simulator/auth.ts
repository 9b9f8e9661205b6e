/**
 * Bearer authentication as the v2 API does it: static API keys, and OAuth2 access tokens from
 * `POST /tokens` (password and refresh_token grants) that expire by the injected clock.
 */
import type { Clock } from '../util/clock.ts';
import { hashSeed, Prng } from './prng.ts';

/** The one OAuth client/user the simulator accepts (any non-empty credentials when not given). */
export interface OAuthConfig {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  /** Access-token lifetime; default 3600. */
  tokenTtlSeconds?: number;
}

/**
 * What a credential may read. The key prefix says it on live servers (`nsr_` reseller, `nss_`
 * system, `nsd_` domain); OAuth tokens here are reseller tokens. `unscoped` is the simulator's
 * own kind for keys without a prefix (such as `x`): every domain's endpoints, as before scopes
 * existed, but not the reseller-wide ones. `domain` set on a domain key limits it to that domain.
 */
export interface CredentialScope {
  kind: 'reseller' | 'system' | 'domain' | 'unscoped';
  domain?: string;
}

export type AuthResult = { ok: true; kind: 'api-key' | 'oauth'; scope: CredentialScope } | { ok: false; status: number; message: string };

/** The scope a static key's prefix gives it; `domainKeys` binds domain keys to their domain. */
export function keyScope(key: string, domainKeys?: Readonly<Record<string, string>>): CredentialScope {
  if (key.startsWith('nsr_')) return { kind: 'reseller' };
  if (key.startsWith('nss_')) return { kind: 'system' };
  if (key.startsWith('nsd_')) {
    const domain = domainKeys?.[key];
    return domain === undefined ? { kind: 'domain' } : { kind: 'domain', domain };
  }
  return { kind: 'unscoped' };
}

/** Whether a scope may read the reseller-wide `/cdrs` and `/cdrs/count`. */
export function seesResellerWide(scope: CredentialScope): boolean {
  return scope.kind === 'reseller' || scope.kind === 'system';
}

/** Whether a scope may read one domain's endpoints. */
export function seesDomain(scope: CredentialScope, domain: string): boolean {
  return scope.kind !== 'domain' || scope.domain === undefined || scope.domain === domain;
}

interface IssuedToken {
  expiresAtMs: number;
  user: string;
  domain: string;
}

const ISSUER = 'ns-api-simulator';

export class AuthService {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly refreshTokens = new Map<string, { user: string; domain: string; clientId: string }>();
  private readonly rng: Prng;
  private counter = 0;

  constructor(
    private readonly opts: {
      apiKeys?: readonly string[];
      domainKeys?: Readonly<Record<string, string>>;
      oauth?: OAuthConfig;
      tokenTtlSeconds?: number;
      clock: Clock;
      seed: number;
    },
  ) {
    this.rng = new Prng(hashSeed('auth', opts.seed));
  }

  /** Checks an `Authorization` header. */
  check(header: string | undefined): AuthResult {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return { ok: false, status: 401, message: 'Missing or malformed Authorization header; send "Authorization: Bearer <token>"' };
    const token = m[1]!;
    const issued = this.tokens.get(token);
    if (issued) {
      if (this.opts.clock.now().getTime() >= issued.expiresAtMs) return { ok: false, status: 401, message: 'Access token expired' };
      return { ok: true, kind: 'oauth', scope: { kind: 'reseller' } };
    }
    if (isOurJwt(token)) return { ok: false, status: 401, message: 'Access token expired or revoked' };
    const keys = this.opts.apiKeys;
    if (keys === undefined || keys.includes(token) || this.opts.domainKeys?.[token] !== undefined)
      return { ok: true, kind: 'api-key', scope: keyScope(token, this.opts.domainKeys) };
    return { ok: false, status: 401, message: 'Invalid API key or access token' };
  }

  /** Expires every access token issued so far (refresh tokens keep working). Returns how many. */
  invalidateAccessTokens(): number {
    const n = this.tokens.size;
    for (const t of this.tokens.values()) t.expiresAtMs = -Infinity;
    return n;
  }

  /** `POST /tokens`: returns the status and the JSON body to send. */
  grant(body: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
    const str = (k: string): string =>
      typeof body[k] === 'string' ? (body[k] as string) : typeof body[k] === 'number' ? String(body[k]) : '';
    const grantType = str('grant_type');
    const o = this.opts.oauth;
    const clientId = str('client_id');
    const clientSecret = str('client_secret');
    const clientOk = o ? clientId === o.clientId && clientSecret === o.clientSecret : clientId !== '' && clientSecret !== '';
    if (grantType === 'password') {
      const username = str('username');
      const password = str('password');
      if (!clientId || !clientSecret || !username || !password) {
        return err(400, 'grant_type "password" needs client_id, client_secret, username and password');
      }
      if (!clientOk || (o && (username !== o.username || password !== o.password))) return err(401, 'Invalid client or user credentials');
      const at = username.indexOf('@');
      const user = at >= 0 ? username.slice(0, at) : username;
      const domain = at >= 0 ? username.slice(at + 1) : '';
      const refresh = this.newSecret('rt');
      this.refreshTokens.set(refresh, { user, domain, clientId });
      return { status: 200, body: this.issue(user, domain, refresh) };
    }
    if (grantType === 'refresh_token') {
      const refresh = str('refresh_token');
      if (!clientId || !clientSecret || !refresh)
        return err(400, 'grant_type "refresh_token" needs client_id, client_secret and refresh_token');
      const known = this.refreshTokens.get(refresh);
      if (!clientOk || !known || known.clientId !== clientId) return err(401, 'Invalid client credentials or refresh token');
      return { status: 200, body: this.issue(known.user, known.domain, refresh) };
    }
    return err(400, `unsupported grant_type ${JSON.stringify(grantType)}: use "password" or "refresh_token"`);
  }

  private issue(user: string, domain: string, refresh: string): Record<string, unknown> {
    const ttl = this.opts.oauth?.tokenTtlSeconds ?? this.opts.tokenTtlSeconds ?? 3600;
    const nowMs = this.opts.clock.now().getTime();
    const payload = {
      iss: ISSUER,
      sub: user,
      domain,
      iat: Math.floor(nowMs / 1000),
      exp: Math.floor(nowMs / 1000) + ttl,
      jti: ++this.counter,
    };
    const token = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.${this.newSecret('sig')}`;
    this.tokens.set(token, { expiresAtMs: nowMs + ttl * 1000, user, domain });
    return {
      access_token: token,
      expires_in: ttl,
      token_type: 'Bearer',
      refresh_token: refresh,
      domain,
      user,
      scope: 'Reseller',
      territory: 'examplevoice',
      user_email: `${user || 'api'}@${domain || 'reseller.example'}`,
      displayName: user,
      apiversion: 'v2',
    };
  }

  private newSecret(kind: string): string {
    return `${kind}${this.rng.hex(24)}${(++this.counter).toString(36)}`;
  }
}

function err(status: number, message: string): { status: number; body: Record<string, unknown> } {
  return { status, body: { code: status, message } };
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

function isOurJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { iss?: unknown };
    return payload.iss === ISSUER;
  } catch {
    return false;
  }
}
