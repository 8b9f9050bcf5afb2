// Test fixture: a real OpenID provider (oidc-provider) on 127.0.0.1 that issues signed JWT access
// tokens (client_credentials with resource indicators) and opaque ones (introspection), plus the
// private key so tests can forge the tokens an attacker would send. Test-only.
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { idpFetch } from '../authn/net.js';

export const RESOURCE = 'http://127.0.0.1:1/mcp';
export const OTHER_RESOURCE = 'http://127.0.0.1:2/other';
export const OPAQUE_RESOURCE = 'http://127.0.0.1:3/opaque';
export const CLIENT_ID = 'agent-test';
export const CLIENT_SECRET = 'agent-test-secret-0123456789abcdef';

export interface TestIdP {
  issuer: string;
  jwksURL: string;
  introspectionURL: string;
  /** Token exchanges granted so far. */
  exchanges: readonly TokenExchange[];
  /** JWKS requests served so far. */
  jwksFetches(): number;
  /** Authorization header of the last JWKS request. */
  lastJwksAuthorization(): string | undefined;
  /** A real access token from the token endpoint (client_credentials). */
  clientCredentialsToken(opts?: { resource?: string; scope?: string }): Promise<string>;
  /** A token signed with the provider's own key (kid k1), with any claims. */
  sign(claims: JWTPayload, header?: { kid?: string; alg?: string }): Promise<string>;
  privateKey: CryptoKey;
  publicJwk: JWK;
  close(): Promise<void>;
}

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface TokenExchange {
  sub: string | undefined;
  audience: string;
  client: string;
}

interface ExchangeContext {
  oidc: { params: Record<string, string | undefined>; client: { clientId: string } };
  status: number;
  body: unknown;
}

export interface TestIdPOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Serve HTTPS with this certificate (the issuer URL is then https). */
  tls?: { key: string; cert: string; ca: string };
}

export async function startTestIdP(opts: TestIdPOptions = {}): Promise<TestIdP> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };

  let fetches = 0;
  const exchanges: TokenExchange[] = [];
  let lastAuth: string | undefined;
  const host = opts.host ?? '127.0.0.1';
  const server: Server = opts.tls ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }) : createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials', TOKEN_EXCHANGE],
        redirect_uris: [],
        response_types: [],
        scope: 'tools:call tools:read',
      },
    ],
    jwks: { keys: [privateJwk] },
    scopes: ['tools:call', 'tools:read'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => ({
          scope: 'tools:call tools:read',
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: resource === OPAQUE_RESOURCE ? 'opaque' : 'jwt',
          ...(resource === OPAQUE_RESOURCE ? {} : { jwt: { sign: { alg: 'RS256' } } }),
        }),
      },
    },
  } as never);
  // RFC 8693 token exchange, as an issuer that trusts its own tokens would do it: the subject keeps
  // its `sub`, the new token is for the requested audience, `act` names the client that asked.
  (provider as unknown as { registerGrantType(name: string, handler: (ctx: ExchangeContext) => Promise<void>, params: string[]): void }).registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx) => {
      const p = ctx.oidc.params;
      const fail = (error: string, error_description: string) => {
        ctx.status = 400;
        ctx.body = { error, error_description };
      };
      if (p.subject_token_type !== 'urn:ietf:params:oauth:token-type:access_token' || !p.subject_token || !p.audience) return fail('invalid_request', 'subject_token, its type and audience are required');
      let subject: JWTPayload;
      try {
        subject = (await jwtVerify(p.subject_token, publicKey, { issuer })).payload;
      } catch (e) {
        return fail('invalid_grant', `subject token: ${(e as Error).message}`);
      }
      exchanges.push({ sub: subject.sub, audience: p.audience, client: ctx.oidc.client.clientId });
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ iss: issuer, sub: subject.sub, aud: p.audience, act: { sub: ctx.oidc.client.clientId }, scope: p.scope, iat: now, exp: now + 120 })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
        .sign(privateKey);
      ctx.body = { access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 120 };
    },
    ['subject_token', 'subject_token_type', 'audience', 'requested_token_type', 'scope', 'resource'],
  );
  const cb = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/jwks')) {
      fetches++;
      lastAuth = req.headers.authorization;
    }
    cb(req, res);
  });

  return {
    issuer,
    jwksURL: `${issuer}/jwks`,
    introspectionURL: `${issuer}/token/introspection`,
    jwksFetches: () => fetches,
    exchanges,
    lastJwksAuthorization: () => lastAuth,
    privateKey,
    publicJwk,
    async clientCredentialsToken(o = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource: o.resource ?? RESOURCE, scope: o.scope ?? 'tools:call tools:read' });
      const res = await idpFetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` },
        body: body.toString(),
        allowPrivate: true,
        ...(opts.tls ? { ca: opts.tls.ca } : {}),
      });
      const json = JSON.parse(res.body) as { access_token?: string; error?: string; error_description?: string };
      if (!json.access_token) throw new Error(`token endpoint: ${json.error} ${json.error_description}`);
      return json.access_token;
    },
    async sign(claims, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iat: now, exp: now + 300, iss: issuer, aud: RESOURCE, sub: 'forged-user', ...claims })
        .setProtectedHeader({ alg: header.alg ?? 'RS256', kid: header.kid ?? 'k1', typ: 'at+jwt' })
        .sign(privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
