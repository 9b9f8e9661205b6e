import type { AuthConfig } from '../config/index.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import { basicAuthForms, registerSecrets } from '../util/secrets.ts';
import type { AuthProvider, HttpTransport } from './http-transport.ts';
import { BodyShapeError } from './source-errors.ts';

/** A static key (`nsr_`, `nss_`, `nsd_` ...) is the bearer token itself: nothing to refresh. */
export class ApiKeyAuth implements AuthProvider {
  readonly unauthorizedHint = 'The API key was refused: check NS_API_KEY (a reseller key starts nsr_, a domain key nsd_)';
  constructor(private readonly apiKey: string) {
    if (apiKey.trim() === '') throw new TypeError('NetSapiens API key is empty: set NS_API_KEY');
    registerSecrets(apiKey);
  }
  async token(): Promise<string> {
    return this.apiKey;
  }
  async refreshAfter401(): Promise<string | null> {
    return null;
  }
  secrets(): string[] {
    return [this.apiKey];
  }
}

/** `POST /tokens` answer (`AccessToken`), the fields we use. */
export interface TokenAnswer {
  accessToken: string;
  refreshToken: string | undefined;
  expiresInSeconds: number;
}

/** Without `expires_in` we assume a short life and refresh early rather than meet a 401. */
const DEFAULT_EXPIRES_IN_S = 300;

/** Reads an `AccessToken` body; BodyShapeError (retried) when it is not one. */
export function parseTokenAnswer(text: string): TokenAnswer {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BodyShapeError('token answer is not JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BodyShapeError('token answer is not a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.access_token !== 'string' || o.access_token === '') throw new BodyShapeError('token answer has no access_token');
  const rawExpires = typeof o.expires_in === 'string' ? Number(o.expires_in) : o.expires_in;
  const expiresInSeconds =
    typeof rawExpires === 'number' && Number.isFinite(rawExpires) && rawExpires > 0 ? rawExpires : DEFAULT_EXPIRES_IN_S;
  const refreshToken = typeof o.refresh_token === 'string' && o.refresh_token !== '' ? o.refresh_token : undefined;
  return { accessToken: o.access_token, refreshToken, expiresInSeconds };
}

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  /** Refresh this long before `expires_in` runs out (capped at half the token's life). Default 60. */
  refreshMarginSeconds?: number;
}

/**
 * OAuth2 password grant with a cached token. Refreshes ahead of expiry (refresh_token grant
 * first, the password grant when that fails), and concurrent callers share one in-flight
 * token request instead of stampeding `/tokens`.
 */
export class OAuthTokenProvider implements AuthProvider {
  private current: { accessToken: string; refreshToken: string | undefined; refreshAtMs: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly marginS: number;
  readonly unauthorizedHint = 'The PBX refused a freshly issued OAuth token: check that NS_USERNAME may use the API';
  /** Token requests sent (password and refresh grants), for tests and run summaries. */
  readonly counts = { password: 0, refresh: 0 };

  constructor(
    private readonly settings: OAuthSettings,
    private readonly transport: HttpTransport,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.marginS = settings.refreshMarginSeconds ?? 60;
    registerSecrets(settings.clientSecret, settings.password, ...basicAuthForms(settings.clientId, settings.clientSecret));
  }

  async token(signal?: AbortSignal): Promise<string> {
    const cur = this.current;
    if (cur && this.clock.now().getTime() < cur.refreshAtMs) return cur.accessToken;
    return this.renew(signal);
  }

  async refreshAfter401(staleToken: string, signal?: AbortSignal): Promise<string | null> {
    // Another caller may already have replaced the token that got the 401.
    if (this.current && this.current.accessToken !== staleToken && this.clock.now().getTime() < this.current.refreshAtMs) {
      return this.current.accessToken;
    }
    if (this.current?.accessToken === staleToken) this.current = { ...this.current, refreshAtMs: 0 };
    return this.renew(signal);
  }

  secrets(): string[] {
    const out = [this.settings.clientSecret, this.settings.password, ...basicAuthForms(this.settings.clientId, this.settings.clientSecret)];
    if (this.current) {
      out.push(this.current.accessToken);
      if (this.current.refreshToken) out.push(this.current.refreshToken);
    }
    return out;
  }

  /** One token request at a time; everybody who asks meanwhile gets its answer. */
  private renew(signal?: AbortSignal): Promise<string> {
    if (!this.pending) {
      // Not tied to the first caller's signal: one caller giving up must not fail the others.
      this.pending = this.fetchToken().finally(() => {
        this.pending = undefined;
      });
    }
    const shared = this.pending;
    if (!signal) return shared;
    return new Promise<string>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(
        (t) => {
          signal.removeEventListener('abort', onAbort);
          resolve(t);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private async fetchToken(): Promise<string> {
    const { clientId, clientSecret, username, password } = this.settings;
    const refreshToken = this.current?.refreshToken;
    let answer: TokenAnswer | undefined;
    if (refreshToken) {
      try {
        this.counts.refresh++;
        answer = await this.post({
          grant_type: 'refresh_token',
          client_id: clientId,
          client_secret: clientSecret,
          refresh_token: refreshToken,
        });
      } catch (err) {
        this.logger.debug(
          { err: err instanceof Error ? err.message : String(err) },
          'NetSapiens refresh_token grant failed; using the password grant',
        );
      }
    }
    if (!answer) {
      this.counts.password++;
      answer = await this.post({ grant_type: 'password', client_id: clientId, client_secret: clientSecret, username, password });
    }
    registerSecrets(answer.accessToken, answer.refreshToken);
    const lifeMs = answer.expiresInSeconds * 1000;
    const marginMs = Math.min(this.marginS * 1000, lifeMs / 2);
    this.current = {
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken ?? refreshToken,
      refreshAtMs: this.clock.now().getTime() + lifeMs - marginMs,
    };
    return answer.accessToken;
  }

  private post(body: Record<string, string>): Promise<TokenAnswer> {
    // Repeating a token request is harmless, so unusable bodies are retried like a GET's.
    return this.transport.request({
      method: 'POST',
      path: '/tokens',
      body,
      auth: undefined,
      parse: parseTokenAnswer,
      retryBadBody: true,
      secrets: this.secrets(),
    });
  }
}

/** The provider for an AuthConfig from the environment. */
export function createAuthProvider(
  auth: AuthConfig,
  transport: HttpTransport,
  clock: Clock,
  logger: Logger,
  refreshMarginSeconds?: number,
): ApiKeyAuth | OAuthTokenProvider {
  if (auth.kind === 'api-key') return new ApiKeyAuth(auth.apiKey);
  return new OAuthTokenProvider({ ...auth, refreshMarginSeconds }, transport, clock, logger);
}
