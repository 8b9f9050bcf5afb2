// The caller's identity for the server's own session: the verified bearer token, exchanged at the
// issuer (RFC 8693) for one whose audience is the server, or passed through when the server opted
// in. The result is what the session's upstream carries — an environment variable of its stdio
// process, or a header of its HTTP requests — and when it expires, which ends the session.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentIdentity } from '../../../api/v1beta1/identity.js';
import { DEFAULT_IDENTITY_ENV, DEFAULT_IDENTITY_HEADER } from '../../../api/v1beta1/defaults.js';
import { callerTokenOf } from '../../core/caller-token.js';
import { ErrorCode } from '../../protocol/jsonrpc.js';
import { Refusal, Refusals, type Principal } from '../types.js';

/** authn/net.ts (node:https, node:tls, node:dns) loads on the first exchange, not at every agent's start. */
const idpFetch: typeof import('../authn/net.js').idpFetch = async (...args) => (await import('../authn/net.js')).idpFetch(...args);

/** What one session's upstream carries. */
export interface UpstreamIdentity {
  env: Record<string, string>;
  headers: Record<string, string>;
  /** Epoch ms after which the token is dead (the session ends then). */
  expiresAt?: number;
}

export interface IdentityDeps {
  logger: Logger;
  /** The OIDC issuer, whose metadata names the token endpoint when `exchange.tokenURL` is unset. */
  issuer?: string;
  /** CA bundle (PEM) and private-address rule of the issuer, as authentication uses them. */
  ca?: string;
  allowPrivate: boolean;
}

/** 403 with the reason in the message: the caller must learn why its identity cannot be used. */
const refused = (message: string) => new Refusal(403, ErrorCode.Forbidden, message, undefined, message);

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

export class IdentityBroker {
  private tokenEndpoint: Promise<string> | undefined;

  constructor(
    private readonly config: AgentIdentity,
    private readonly deps: IdentityDeps,
  ) {}

  /**
   * The identity the caller's session passes on, or why it cannot have one. An exchange asks for
   * `audience` (a backend's) instead of the configured one; passthrough passes the same token to all.
   */
  async forCaller(principal: Principal, audience?: string): Promise<UpstreamIdentity | Refusal> {
    const token = callerTokenOf(principal);
    if (token === undefined) {
      return refused("this server runs with the caller's identity, which needs a bearer token (the caller authenticated otherwise)");
    }
    let issued: { token: string; expiresAt?: number };
    if (this.config.mode === 'passthrough') {
      issued = { token, ...(principal.expiresAt ? { expiresAt: principal.expiresAt * 1000 } : {}) };
    } else {
      const r = await this.exchange(token, audience ?? this.config.exchange!.audience);
      if (r instanceof Refusal) return r;
      issued = r;
    }
    return {
      env: { [this.config.env ?? DEFAULT_IDENTITY_ENV]: issued.token },
      headers: { [this.config.header ?? DEFAULT_IDENTITY_HEADER]: `Bearer ${issued.token}` },
      ...(issued.expiresAt ? { expiresAt: issued.expiresAt } : {}),
    };
  }

  private async exchange(subjectToken: string, audience: string): Promise<{ token: string; expiresAt?: number } | Refusal> {
    const x = this.config.exchange!;
    let endpoint: string;
    try {
      endpoint = await this.endpoint();
    } catch (e) {
      this.tokenEndpoint = undefined; // try discovery again next time
      return Refusals.overloaded(`token exchange: ${(e as Error).message}`, 5);
    }
    const secret = readFileSync(x.clientSecretFile, 'utf8').trim();
    const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, requested_token_type: ACCESS_TOKEN, audience });
    if (x.scopes?.length) body.set('scope', x.scopes.join(' '));
    const basic = Buffer.from(`${encodeURIComponent(x.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    let res;
    try {
      res = await idpFetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: body.toString(),
        allowPrivate: this.deps.allowPrivate,
        ca: this.deps.ca,
      });
    } catch (e) {
      return Refusals.overloaded(`token exchange at ${new URL(endpoint).origin} failed: ${(e as Error).message}`, 5);
    }
    let doc: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    try {
      doc = JSON.parse(res.body);
    } catch {
      doc = {};
    }
    if (res.status !== 200 || typeof doc.access_token !== 'string') {
      const why = typeof doc.error === 'string' ? `${doc.error}${typeof doc.error_description === 'string' ? `: ${doc.error_description}` : ''}` : `HTTP ${res.status}`;
      this.deps.logger.warn({ status: res.status, error: doc.error }, 'token exchange refused');
      return refused(`token exchange refused by the issuer (${why})`);
    }
    return { token: doc.access_token, ...(typeof doc.expires_in === 'number' ? { expiresAt: Date.now() + doc.expires_in * 1000 } : {}) };
  }

  private endpoint(): Promise<string> {
    const configured = this.config.exchange?.tokenURL;
    if (configured) return Promise.resolve(configured);
    this.tokenEndpoint ??= (async () => {
      const issuer = this.deps.issuer;
      if (!issuer) throw new Error('no tokenURL and no OIDC issuer to discover it from');
      const res = await idpFetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { allowPrivate: this.deps.allowPrivate, ca: this.deps.ca });
      const endpoint = (JSON.parse(res.body) as { token_endpoint?: unknown }).token_endpoint;
      if (res.status !== 200 || typeof endpoint !== 'string') throw new Error(`the issuer's metadata names no token endpoint (HTTP ${res.status})`);
      return endpoint;
    })();
    return this.tokenEndpoint;
  }
}
