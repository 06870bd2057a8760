import { ChrunError } from '../util/index.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { Credentials } from './docker-config.js';

/** How the authorizer reaches the token server (the client's own HTTP, with retries). */
export type TokenFetch = (
  url: URL,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

interface CachedToken {
  token: string;
  /** ms since the epoch after which the token is not used any more. */
  expires: number;
}

/** Scopes for pulling from, and pushing to, a repository. */
export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

/**
 * Authorization for one registry, as Docker does it: the challenge comes from the /v2/
 * ping (or a 401); Bearer tokens are fetched from the challenge's realm for the scopes a
 * request needs, anonymously or with Basic credentials, and cached per scope set until
 * they expire; Basic challenges get the credentials directly.
 */
export class Authorizer {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private creds: Credentials | undefined;
  private credsLoaded = false;

  constructor(
    private readonly registry: string,
    private readonly loadCredentials: () => Promise<Credentials | undefined>,
    private readonly fetchToken: TokenFetch,
  ) {}

  /** Remembers the challenge of a 401 (or of the ping); true when one was usable. */
  setChallenge(header: string | string[] | undefined): boolean {
    const all = parseChallenges(header);
    const chosen = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (chosen === undefined) return false;
    this.challenge = chosen;
    return true;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** The scope a 401's Bearer challenge asks for, if it names one. */
  static challengeScopes(header: string | string[] | undefined): string[] {
    const c = parseChallenges(header).find((x) => x.scheme === 'bearer');
    const scope = c?.params.scope;
    return scope === undefined || scope === '' ? [] : scope.split(' ');
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (!this.credsLoaded) {
      this.creds = await this.loadCredentials();
      this.credsLoaded = true;
    }
    return this.creds;
  }

  /** The Authorization header value for a request needing `scopes`, if any is needed. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (c === undefined) return undefined;
    if (c.scheme === 'basic') {
      const creds = await this.credentials();
      if (creds === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (c.scheme !== 'bearer') return undefined;
    const token = await this.token(c, scopes);
    return `Bearer ${token.token}`;
  }

  /** Drops cached tokens for these scopes (after a 401 despite a token). */
  invalidate(scopes: readonly string[]): void {
    this.tokens.delete(scopeKey(this.challenge, scopes));
  }

  private async token(c: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const key = scopeKey(c, scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expires > Date.now()) return cached;
    let p = this.pending.get(key);
    if (p === undefined) {
      p = this.requestToken(c, scopes).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const token = await p;
    this.tokens.set(key, token);
    return token;
  }

  private async requestToken(c: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const realm = c.params.realm;
    if (realm === undefined || realm === '') {
      throw new ChrunError(
        'CHRUN_REGISTRY_ERROR',
        `authenticate to ${this.registry}: bearer challenge without a realm`,
      );
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new ChrunError(
        'CHRUN_REGISTRY_ERROR',
        `authenticate to ${this.registry}: invalid token realm "${realm}"`,
        { cause: err },
      );
    }
    if (c.params.service !== undefined) url.searchParams.set('service', c.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    const creds = await this.credentials();
    if (creds !== undefined) {
      url.searchParams.set('account', creds.username);
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const started = Date.now();
    const res = await this.fetchToken(url, headers);
    if (res.status === 401 || res.status === 403) {
      throw new ChrunError(
        'CHRUN_REGISTRY_UNAUTHORIZED',
        creds === undefined
          ? `authenticate to ${this.registry}: the registry wants credentials (run chrun login ${this.registry})`
          : `authenticate to ${this.registry}: incorrect username or password`,
        { fields: { status: res.status } },
      );
    }
    if (res.status !== 200) {
      throw new ChrunError(
        'CHRUN_REGISTRY_ERROR',
        `authenticate to ${this.registry}: token server answered ${res.status}`,
        {
          fields: { status: res.status },
        },
      );
    }
    let doc: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      doc = JSON.parse(res.body) as typeof doc;
    } catch (err) {
      throw new ChrunError(
        'CHRUN_REGISTRY_ERROR',
        `authenticate to ${this.registry}: token server sent invalid JSON`,
        { cause: err },
      );
    }
    const token = doc.token ?? doc.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new ChrunError(
        'CHRUN_REGISTRY_ERROR',
        `authenticate to ${this.registry}: token server sent no token`,
      );
    }
    // The token spec's default lifetime is 60 s; keep a margin for clock skew and latency.
    const lifetime = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    const issued = doc.issued_at !== undefined ? Date.parse(doc.issued_at) : NaN;
    const base = Number.isFinite(issued) && Math.abs(issued - started) < 60_000 ? issued : started;
    return { token, expires: base + lifetime * 1000 - 10_000 };
  }
}

function scopeKey(c: Challenge | undefined, scopes: readonly string[]): string {
  return `${c?.params.realm ?? ''}|${c?.params.service ?? ''}|${[...scopes].sort().join(' ')}`;
}
