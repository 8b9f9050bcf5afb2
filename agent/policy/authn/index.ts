// Authentication stage: bearer tokens verified with `jose` against the issuer's JWKS (OIDC, or the
// Kubernetes API server's service-account keys), or introspected (RFC 7662) when opaque. A verified
// token is cached by its SHA-256 until it expires, so a repeat request is answered synchronously.
// Failures are 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728) so clients can
// find the authorization server; a token without the required scopes is 403 insufficient_scope.
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/jsonrpc.js';
import { rememberCallerToken } from '../../core/caller-token.js';
import { Refusal, type PolicyMetrics, type Principal } from '../types.js';
import { sha256 } from './digest.js';
import { idpFetch, PrivateAddressError } from './net.js';

export { isPrivateAddress, PrivateAddressError } from './net.js';

/** Asymmetric algorithms only: an HMAC "signed" with the public key is never accepted. */
export const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
export const DEFAULT_MAX_TOKEN_BYTES = 8192;
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface AuthnOptions {
  logger: Logger;
  /** The method name principals carry (`claims.auth_method`): JWT when introspection is not used. Default Bearer. */
  method?: 'Bearer' | 'JWT';
  metrics?: PolicyMetrics;
  /** `oidc` (inline/ConfigMap OIDC) or `kubernetes` (service-account tokens). */
  kind: 'oidc' | 'kubernetes';
  issuer: string;
  /** Expected `aud`. Unset: audience not checked (a warning is logged at start). */
  audience?: string;
  /** JWKS URL; discovered from `<issuer>/.well-known/openid-configuration` when unset. */
  jwksURL?: string;
  /** RFC 7662 endpoint for opaque (non-JWT) tokens. */
  introspectionURL?: string;
  clientId?: string;
  clientSecret?: string;
  /** PEM file of CAs trusted (besides the system's) for the issuer, JWKS and introspection endpoints. */
  caBundlePath?: string;
  /** File holding a bearer token sent when fetching the JWKS (read on every fetch: it may rotate). */
  jwksAuthTokenPath?: string;
  /** Allow IdP URLs that resolve to private, loopback or link-local addresses. */
  allowPrivateIP?: boolean;
  /** Kubernetes: accept only service accounts of these namespaces (`*`: any); unset: any. */
  namespaces?: string[];
  /** Kubernetes: fetch the JWKS from the API server with the pod's token and the cluster CA. */
  useClusterAuth?: boolean;
  /** Kubernetes: directory with `token` and `ca.crt` (default the pod's service-account mount). */
  serviceAccountDir?: string;
  /** Kubernetes: API server URL (default from KUBERNETES_SERVICE_HOST/PORT). */
  kubernetesAPI?: string;
  /** This resource (RFC 9728 `resource`); its origin hosts the metadata document. */
  resourceURL?: string;
  /** Every one of these must be in the token's `scope`/`scp`, else 403 insufficient_scope. */
  requiredScopes?: readonly string[];
  /** Advertised in the metadata document (`scopes_supported`). */
  scopesSupported?: readonly string[];
  algorithms?: string[];
  /** Leeway for exp/nbf/iat, seconds (default 30). */
  clockToleranceSec?: number;
  /** Longest bearer token accepted (default 8192 bytes). */
  maxTokenBytes?: number;
  /** Minimum time between JWKS refreshes triggered by an unknown `kid` (default 30 s). */
  jwksCooldownMs?: number;
  /** Keys are refetched at most this old (default 10 min). */
  jwksMaxAgeMs?: number;
  /** Verified tokens remembered (default 10,000). */
  tokenCacheSize?: number;
  /** An introspected token is re-checked after this long even if not expired (default 60 s). */
  introspectionCacheMs?: number;
  /** Timeout for IdP requests (default 5 s). */
  httpTimeoutMs?: number;
}

interface CacheEntry {
  principal: Principal;
  /** Epoch ms after which the entry is dead. */
  until: number;
  scopeOk: boolean;
}

export type { AuthResult } from './method.js';
type AuthResult = Principal | Refusal;

const isJwtShaped = (t: string) => {
  const a = t.indexOf('.');
  if (a <= 0) return false;
  const b = t.indexOf('.', a + 1);
  return b > a + 1 && t.indexOf('.', b + 1) === -1;
};

function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, '') + '"';
}

/** `<origin>/.well-known/oauth-protected-resource<path>` for a resource URL (RFC 9728 §3.1). */
export function protectedResourceMetadataURL(resourceURL: string): string {
  const u = new URL(resourceURL);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return `${u.origin}/.well-known/oauth-protected-resource${path}`;
}

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();
  private jwks: JWTVerifyGetKey | undefined;
  private jwksPending: Promise<JWTVerifyGetKey> | undefined;
  private jwksFailedAt = 0;
  private readonly ca: string | undefined;
  /** `WWW-Authenticate` of a 401: Bearer with the RFC 9728 metadata URL when the resource is known. */
  readonly challenge: string;
  private readonly missing: Refusal;
  private readonly maxTokenBytes: number;
  private readonly cacheSize: number;
  private readonly allowPrivate: boolean;
  private readonly warned = new Set<string>();

  constructor(private readonly o: AuthnOptions) {
    if (o.caBundlePath) {
      try {
        this.ca = readFileSync(o.caBundlePath, 'utf8');
      } catch (e) {
        throw new Error(`oidcConfig: cannot read the CA bundle ${o.caBundlePath}: ${(e as Error).message}`);
      }
    }
    if (o.kind === 'kubernetes' && o.useClusterAuth !== false && !o.jwksURL) {
      const saCa = this.readOptional(`${o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR}/ca.crt`);
      if (saCa) this.ca = this.ca ? this.ca + '\n' + saCa : saCa;
    }
    this.challenge = o.resourceURL ? `Bearer resource_metadata=${quote(protectedResourceMetadataURL(o.resourceURL))}` : 'Bearer';
    this.missing = new Refusal(401, ErrorCode.Unauthorized, 'Unauthorized: a bearer token is required', { 'WWW-Authenticate': this.challenge }, 'no bearer token');
    this.maxTokenBytes = o.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
    this.cacheSize = o.tokenCacheSize ?? 10_000;
    // The cluster API server lives on a private address by nature; it is trusted through its CA.
    this.allowPrivate = o.allowPrivateIP === true || (o.kind === 'kubernetes' && o.useClusterAuth !== false && !o.jwksURL);
    if (!o.audience) o.logger.warn('authentication: no audience configured (set oidcConfig audience or resourceURL); tokens issued for any audience are accepted');
  }

  private readOptional(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The RFC 9728 document served at `/.well-known/oauth-protected-resource…`. */
  metadata(resourceURL = this.o.resourceURL): Record<string, unknown> | undefined {
    if (!resourceURL) return undefined;
    const doc: Record<string, unknown> = {
      resource: resourceURL,
      authorization_servers: [this.o.issuer],
      bearer_methods_supported: ['header'],
    };
    if (this.o.scopesSupported && this.o.scopesSupported.length > 0) doc.scopes_supported = [...this.o.scopesSupported];
    return doc;
  }

  private invalid(reason: string): Refusal {
    this.o.metrics?.authn?.('rejected');
    return new Refusal(401, ErrorCode.Unauthorized, 'Unauthorized: invalid or expired token', { 'WWW-Authenticate': `${this.challenge}${this.challenge === 'Bearer' ? ' ' : ', '}error="invalid_token"` }, reason);
  }

  private insufficientScope(): Refusal {
    this.o.metrics?.authn?.('rejected');
    const scope = (this.o.requiredScopes ?? []).join(' ');
    return new Refusal(
      403,
      ErrorCode.Forbidden,
      'Forbidden: insufficient scope',
      { 'WWW-Authenticate': `${this.challenge}${this.challenge === 'Bearer' ? ' ' : ', '}error="insufficient_scope", scope=${quote(scope)}` },
      'insufficient scope',
    );
  }

  /** Synchronous when the token is cached (or plainly invalid); a Promise when it must be verified. */
  authenticate(authorization: string | undefined): AuthResult | Promise<AuthResult> {
    if (authorization === undefined || authorization === '') {
      this.o.metrics?.authn?.('rejected');
      return this.missing;
    }
    if (authorization.length > this.maxTokenBytes + 7) return this.invalid('token too large');
    if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return this.invalid('not a bearer token');
    const token = authorization.slice(7).trim();
    if (token === '') return this.missing;
    const hash = sha256(token);
    const hit = this.cache.get(hash);
    if (hit !== undefined) {
      if (hit.until > Date.now()) {
        this.o.metrics?.authn?.('cached');
        return hit.scopeOk ? hit.principal : this.insufficientScope();
      }
      this.cache.delete(hash);
    }
    let p = this.inflight.get(hash);
    if (p === undefined) {
      p = this.verify(token, hash).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, p);
    }
    return p;
  }

  private async verify(token: string, hash: string): Promise<AuthResult> {
    let principal: Principal;
    let until: number;
    try {
      if (isJwtShaped(token)) {
        ({ principal, until } = await this.verifyJwt(token));
      } else if (this.o.introspectionURL) {
        ({ principal, until } = await this.introspect(token));
      } else {
        return this.invalid('malformed token');
      }
    } catch (e) {
      return this.invalid(this.describe(e));
    }
    const scopeOk = this.hasScopes(principal.scopes);
    if (this.cache.size >= this.cacheSize) {
      // Drop the oldest eighth: cheap, and a flood of distinct tokens cannot grow memory.
      let n = this.cacheSize >> 3 || 1;
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--n === 0) break;
      }
    }
    this.cache.set(hash, { principal, until, scopeOk });
    rememberCallerToken(principal, token); // for identity to the server, when a server asks for it
    if (!scopeOk) return this.insufficientScope();
    this.o.metrics?.authn?.('ok');
    return principal;
  }

  private hasScopes(scopes: readonly string[]): boolean {
    const req = this.o.requiredScopes;
    if (!req || req.length === 0) return true;
    for (const s of req) if (!scopes.includes(s)) return false;
    return true;
  }

  private describe(e: unknown): string {
    if (e instanceof joseErrors.JWTExpired) return 'token expired';
    if (e instanceof joseErrors.JWTClaimValidationFailed) return `claim ${e.claim} invalid: ${e.reason}`;
    if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no matching signing key';
    if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature invalid';
    if (e instanceof joseErrors.JOSEError) return `${e.code}: ${e.message}`;
    if (e instanceof PrivateAddressError) {
      if (!this.warned.has('private')) {
        this.warned.add('private');
        this.o.logger.error({ err: e.message }, 'authentication: identity provider URL refused (private address)');
      }
      return 'identity provider URL refused (private address)';
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.o.logger.warn({ err: msg }, 'authentication: token verification failed');
    return msg;
  }

  private async verifyJwt(token: string): Promise<{ principal: Principal; until: number }> {
    const keys = await this.keys();
    const { payload } = await jwtVerify(token, keys, {
      issuer: this.o.issuer,
      audience: this.o.audience,
      algorithms: this.o.algorithms ?? DEFAULT_ALGORITHMS,
      clockTolerance: this.o.clockToleranceSec ?? 30,
      requiredClaims: ['exp', 'sub'],
    });
    return this.fromClaims(payload);
  }

  private fromClaims(payload: JWTPayload, cacheCapMs?: number): { principal: Principal; until: number } {
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '') throw new Error('token has no subject');
    const allowed = this.o.kind === 'kubernetes' ? this.o.namespaces : undefined;
    if (allowed && !allowed.includes('*')) {
      const ns = /^system:serviceaccount:([^:]+):/.exec(sub)?.[1];
      if (!ns || !allowed.includes(ns)) throw new Error(`service account not in namespace ${allowed.join(', ')}`);
    }
    const exp = typeof payload.exp === 'number' ? payload.exp : undefined;
    const skewMs = (this.o.clockToleranceSec ?? 30) * 1000;
    let until = exp !== undefined ? exp * 1000 + skewMs : Date.now() + 60_000;
    if (cacheCapMs !== undefined) until = Math.min(until, Date.now() + cacheCapMs);
    const iss = typeof payload.iss === 'string' ? payload.iss : this.o.issuer;
    const method = this.o.method ?? 'Bearer';
    const principal: Principal = {
      key: `${iss}|${sub}`,
      sub,
      iss,
      method,
      // auth_method is the agent's, as for every other method (a token's own claim of that name is overridden).
      claims: { ...(payload as Record<string, unknown>), auth_method: method },
      scopes: scopesOf(payload),
      expiresAt: exp,
    };
    return { principal, until };
  }

  private async keys(): Promise<JWTVerifyGetKey> {
    if (this.jwks) return this.jwks;
    if (!this.jwksPending) {
      if (Date.now() - this.jwksFailedAt < 5000) throw new Error('JWKS discovery failed recently; retrying shortly');
      this.jwksPending = this.resolveJwksURL().then(
        (url) => {
          this.jwks = createRemoteJWKSet(new URL(url), {
            cooldownDuration: this.o.jwksCooldownMs ?? 30_000,
            cacheMaxAge: this.o.jwksMaxAgeMs ?? 600_000,
            timeoutDuration: this.o.httpTimeoutMs ?? 5000,
            [customFetch]: (u, init) => this.fetchForJose(u, init),
          });
          return this.jwks;
        },
        (e) => {
          this.jwksPending = undefined;
          this.jwksFailedAt = Date.now();
          throw e;
        },
      );
    }
    return this.jwksPending;
  }

  private async resolveJwksURL(): Promise<string> {
    if (this.o.jwksURL) return this.o.jwksURL;
    if (this.o.kind === 'kubernetes' && this.o.useClusterAuth !== false) {
      const api = this.o.kubernetesAPI ?? kubernetesAPIFromEnv();
      if (api) return `${api.replace(/\/$/, '')}/openid/v1/jwks`;
    }
    const url = `${this.o.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await idpFetch(url, { allowPrivate: this.allowPrivate, ca: this.ca, timeoutMs: this.o.httpTimeoutMs, headers: this.authHeader() });
    if (res.status !== 200) throw new Error(`OIDC discovery at ${url} answered ${res.status}`);
    const doc = JSON.parse(res.body) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== this.o.issuer) throw new Error(`OIDC discovery issuer ${String(doc.issuer)} differs from ${this.o.issuer}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${url} has no jwks_uri`);
    return doc.jwks_uri;
  }

  private authHeader(): Record<string, string> | undefined {
    let path = this.o.jwksAuthTokenPath;
    if (!path && this.o.kind === 'kubernetes' && this.o.useClusterAuth !== false) path = `${this.o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR}/token`;
    if (!path) return undefined;
    const t = this.readOptional(path)?.trim();
    return t ? { authorization: `Bearer ${t}` } : undefined;
  }

  private async fetchForJose(url: string, init: { headers: Headers; signal: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = {};
    init.headers.forEach((v, k) => (headers[k] = v));
    Object.assign(headers, this.authHeader());
    const res = await idpFetch(url, { allowPrivate: this.allowPrivate, ca: this.ca, headers, signal: init.signal, timeoutMs: this.o.httpTimeoutMs });
    return new Response(res.body, { status: res.status, headers: res.headers });
  }

  private async introspect(token: string): Promise<{ principal: Principal; until: number }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.o.clientId) {
      const cred = `${encodeURIComponent(this.o.clientId)}:${encodeURIComponent(this.o.clientSecret ?? '')}`;
      headers.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    }
    const body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
    const res = await idpFetch(this.o.introspectionURL!, { method: 'POST', headers, body, allowPrivate: this.allowPrivate, ca: this.ca, timeoutMs: this.o.httpTimeoutMs });
    if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
    const r = JSON.parse(res.body) as JWTPayload & { active?: unknown; client_id?: unknown };
    if (r.active !== true) throw new Error('token is not active');
    const now = Date.now() / 1000;
    const skew = this.o.clockToleranceSec ?? 30;
    if (typeof r.exp === 'number' && r.exp + skew < now) throw new Error('token expired');
    if (typeof r.nbf === 'number' && r.nbf - skew > now) throw new Error('token not yet valid');
    if (r.iss !== undefined && r.iss !== this.o.issuer) throw new Error('claim iss invalid');
    if (this.o.audience) {
      const aud = r.aud;
      if (!(aud === this.o.audience || (Array.isArray(aud) && aud.includes(this.o.audience)))) throw new Error('claim aud invalid');
    }
    if (r.sub === undefined && typeof r.client_id === 'string') r.sub = r.client_id;
    return this.fromClaims(r, this.o.introspectionCacheMs ?? 60_000);
  }
}

function scopesOf(p: JWTPayload): string[] {
  const s = p.scope ?? p.scp;
  if (typeof s === 'string') return s.split(' ').filter((x) => x !== '');
  if (Array.isArray(s)) return s.filter((x): x is string => typeof x === 'string');
  return [];
}

function kubernetesAPIFromEnv(): string | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  if (!host) return undefined;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
