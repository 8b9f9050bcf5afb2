import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import { createHmac } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRefusal, type Principal, type Refusal } from '../types.js';
import { CLIENT_ID, CLIENT_SECRET, OPAQUE_RESOURCE, OTHER_RESOURCE, RESOURCE, startTestIdP, type TestIdP } from '../testing/oidc.js';
import { Authenticator, isPrivateAddress, type AuthnOptions } from './index.js';

const logger = pino({ level: 'silent' });
let idp: TestIdP;
beforeAll(async () => {
  idp = await startTestIdP();
});
afterAll(() => idp?.close());

function authn(extra: Partial<AuthnOptions> = {}): Authenticator {
  return new Authenticator({ logger, kind: 'oidc', issuer: idp.issuer, audience: RESOURCE, jwksURL: idp.jwksURL, allowPrivateIP: true, resourceURL: RESOURCE, ...extra });
}
async function check(a: Authenticator, token: string | undefined): Promise<Principal | Refusal> {
  return await a.authenticate(token === undefined ? undefined : `Bearer ${token}`);
}
async function expect401(a: Authenticator, token: string | undefined): Promise<Refusal> {
  const r = await check(a, token);
  expect(isRefusal(r)).toBe(true);
  const rej = r as Refusal;
  expect(rej.status).toBe(401);
  expect(rej.headers['WWW-Authenticate']).toMatch(/^Bearer resource_metadata="http:\/\/127\.0\.0\.1:1\/\.well-known\/oauth-protected-resource\/mcp"/);
  return rej;
}
const now = () => Math.floor(Date.now() / 1000);

describe('a real OIDC provider over HTTP', () => {
  it('accepts its JWT access token and answers the next request synchronously from the cache', async () => {
    const a = authn();
    const token = await idp.clientCredentialsToken();
    const p = (await check(a, token)) as Principal;
    expect(isRefusal(p)).toBe(false);
    expect(p.sub).toBe(CLIENT_ID);
    expect(p.iss).toBe(idp.issuer);
    expect(p.key).toBe(`${idp.issuer}|${CLIENT_ID}`);
    expect(p.scopes).toEqual(expect.arrayContaining(['tools:call', 'tools:read']));
    const again = a.authenticate(`Bearer ${token}`);
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toBe(p);
    expect(JSON.stringify(p)).not.toContain(token);
  });

  it('discovers the JWKS from the issuer when no jwksURL is given', async () => {
    const a = authn({ jwksURL: undefined });
    const p = await check(a, await idp.clientCredentialsToken());
    expect(isRefusal(p)).toBe(false);
  });

  it('introspects opaque tokens with client credentials (RFC 7662)', async () => {
    const a = authn({ introspectionURL: idp.introspectionURL, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: OPAQUE_RESOURCE });
    const opaque = await idp.clientCredentialsToken({ resource: OPAQUE_RESOURCE });
    expect(opaque.split('.').length).not.toBe(3);
    const p = (await check(a, opaque)) as Principal;
    expect(isRefusal(p)).toBe(false);
    expect(p.sub).toBe(CLIENT_ID);
    await expect401(authn({ introspectionURL: idp.introspectionURL, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }), 'not-a-real-token');
    // wrong client secret: the introspection call fails, the token is refused
    await expect401(authn({ introspectionURL: idp.introspectionURL, clientId: CLIENT_ID, clientSecret: 'wrong', audience: OPAQUE_RESOURCE }), opaque);
  });

  it('answers a missing token with 401 and the RFC 9728 metadata pointer, and serves the metadata document', async () => {
    const a = authn({ scopesSupported: ['tools:call'] });
    const r = await expect401(a, undefined);
    expect(r.headers['WWW-Authenticate']).not.toContain('error=');
    expect(a.metadata()).toEqual({ resource: RESOURCE, authorization_servers: [idp.issuer], bearer_methods_supported: ['header'], scopes_supported: ['tools:call'] });
    const basic = await a.authenticate('Basic dXNlcjpwYXNz');
    expect((basic as Refusal).status).toBe(401);
  });

  it('403 insufficient_scope when a required scope is missing', async () => {
    const a = authn({ requiredScopes: ['tools:admin'] });
    const r = (await check(a, await idp.clientCredentialsToken())) as Refusal;
    expect(r.status).toBe(403);
    expect(r.headers['WWW-Authenticate']).toContain('error="insufficient_scope"');
    expect(r.headers['WWW-Authenticate']).toContain('scope="tools:admin"');
  });
});

describe('attack suite: each is refused with the right status', () => {
  it('alg none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ iss: idp.issuer, aud: RESOURCE, sub: 'admin', exp: now() + 300 }));
    await expect401(authn(), `${header}.${payload}.`);
    await expect401(authn(), `${header}.${payload}`);
  });

  it('HS256 signed with the public key as the HMAC secret (key confusion)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'k1' }));
    const payload = base64url.encode(JSON.stringify({ iss: idp.issuer, aud: RESOURCE, sub: 'admin', exp: now() + 300 }));
    const pem = await exportSPKI((await importJWK(idp.publicJwk, 'RS256', { extractable: true })) as never);
    for (const secret of [pem, JSON.stringify(idp.publicJwk), idp.publicJwk.n!]) {
      const sig = base64url.encode(createHmac('sha256', secret).update(`${header}.${payload}`).digest());
      await expect401(authn(), `${header}.${payload}.${sig}`);
    }
  });

  it('wrong issuer', async () => {
    await expect401(authn(), await idp.sign({ iss: 'https://evil.example.com' }));
  });

  it('wrong audience', async () => {
    await expect401(authn(), await idp.sign({ aud: 'https://some-other-api.example.com' }));
  });

  it('token for another resource (issued by the same provider through a resource indicator)', async () => {
    const other = await idp.clientCredentialsToken({ resource: OTHER_RESOURCE });
    const r = await expect401(authn(), other);
    expect(r.reason).toMatch(/aud/);
  });

  it('expired (beyond the clock skew)', async () => {
    const r = await expect401(authn(), await idp.sign({ iat: now() - 600, exp: now() - 120 }));
    expect(r.reason).toBe('token expired');
  });

  it('nbf in the future', async () => {
    const r = await expect401(authn(), await idp.sign({ nbf: now() + 600 }));
    expect(r.reason).toMatch(/nbf/);
  });

  it('missing exp or sub', async () => {
    const noExp = await new SignJWT({ iss: idp.issuer, aud: RESOURCE, sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(idp.privateKey);
    await expect401(authn(), noExp);
    await expect401(authn(), await idp.sign({ sub: undefined }));
  });

  it('tampered payload', async () => {
    const good = await idp.sign({ sub: 'user' });
    const [h, , s] = good.split('.');
    const evil = base64url.encode(JSON.stringify({ iss: idp.issuer, aud: RESOURCE, sub: 'admin', exp: now() + 300 }));
    await expect401(authn(), `${h}.${evil}.${s}`);
  });

  it('unknown kid: one JWKS refresh, then refused; no refresh storm', async () => {
    const a = authn({ jwksCooldownMs: 300 });
    expect(isRefusal(await check(a, await idp.sign({ sub: 'ok' })))).toBe(false);
    const before = idp.jwksFetches();
    await new Promise((r) => setTimeout(r, 350));
    const { privateKey } = await generateKeyPair('RS256');
    const mk = async (sub: string) =>
      new SignJWT({ iss: idp.issuer, aud: RESOURCE, sub, exp: now() + 300 }).setProtectedHeader({ alg: 'RS256', kid: 'rogue' }).sign(privateKey);
    await expect401(a, await mk('a'));
    expect(idp.jwksFetches()).toBe(before + 1);
    for (let i = 0; i < 5; i++) await expect401(a, await mk(`b${i}`));
    expect(idp.jwksFetches()).toBe(before + 1);
  });

  it('a known kid signed by another key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await expect401(authn(), await new SignJWT({ iss: idp.issuer, aud: RESOURCE, sub: 'x', exp: now() + 300 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey));
  });

  it('oversized token, refused before any work', async () => {
    const a = authn();
    const before = idp.jwksFetches();
    const r = await expect401(a, 'a'.repeat(5000) + '.' + 'b'.repeat(5000) + '.c');
    expect(r.reason).toBe('token too large');
    expect(idp.jwksFetches()).toBe(before);
  });

  it('JWKS URL on a private/loopback address without jwksAllowPrivateIP', async () => {
    const before = idp.jwksFetches();
    const a = authn({ allowPrivateIP: false });
    const r = await expect401(a, await idp.sign({ sub: 'x' }));
    expect(r.reason).toMatch(/private/);
    // discovery is guarded the same way
    const b = authn({ allowPrivateIP: false, jwksURL: undefined });
    await expect401(b, await idp.sign({ sub: 'y' }));
    // a hostname resolving to loopback is caught at DNS time
    const c = authn({ allowPrivateIP: false, jwksURL: idp.jwksURL.replace('127.0.0.1', 'localhost') });
    expect((await expect401(c, await idp.sign({ sub: 'z' }))).reason).toMatch(/private/);
    expect(idp.jwksFetches()).toBe(before);
  });
});

describe('kubernetes service-account tokens', () => {
  it('checks issuer, audience and namespace; sends the pod token when fetching the JWKS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ome-sa-'));
    try {
      writeFileSync(join(dir, 'token'), 'pod-sa-token\n');
      const a = new Authenticator({
        logger,
        kind: 'kubernetes',
        issuer: idp.issuer,
        audience: 'toolhive',
        jwksURL: idp.jwksURL,
        jwksAuthTokenPath: join(dir, 'token'),
        allowPrivateIP: true,
        namespaces: ['data-science', 'ml'],
      });
      const sa = (ns: string) => idp.sign({ aud: ['toolhive'], sub: `system:serviceaccount:${ns}:runner`, 'kubernetes.io': { namespace: ns, serviceaccount: { name: 'runner' } } });
      const p = (await check(a, await sa('data-science'))) as Principal;
      expect(p.sub).toBe('system:serviceaccount:data-science:runner');
      expect(idp.lastJwksAuthorization()).toBe('Bearer pod-sa-token');
      expect(((await check(a, await sa('ml'))) as Principal).sub).toBe('system:serviceaccount:ml:runner');
      expect(((await check(a, await sa('default'))) as Refusal).status).toBe(401);
      const any = new Authenticator({ logger, kind: 'kubernetes', issuer: idp.issuer, audience: 'toolhive', jwksURL: idp.jwksURL, allowPrivateIP: true, namespaces: ['*'] });
      expect(((await check(any, await sa('default'))) as Principal).sub).toBe('system:serviceaccount:default:runner');
      expect(((await check(a, await idp.sign({ aud: 'other', sub: 'system:serviceaccount:data-science:runner' }))) as Refusal).status).toBe(401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['2606:4700:4700::1111', false],
  ])('%s → %s', (addr, expected) => {
    expect(isPrivateAddress(addr)).toBe(expected);
  });
});

describe('TLS endpoints: cluster CA and CA bundle', () => {
  it('kubernetes useClusterAuth: JWKS from the API server over TLS with the pod token and cluster CA', async () => {
    const { generateTls } = await import('../../../injector/webhook/tls.js');
    const { createServer } = await import('node:https');
    const tls = await generateTls({ dnsNames: ['kubernetes.default.svc'], ipAddresses: ['127.0.0.1'] });
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const { exportJWK } = await import('jose');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'sa-key', alg: 'ES256', use: 'sig' };
    const seen: (string | undefined)[] = [];
    const api = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      seen.push(req.headers.authorization);
      if (req.url !== '/openid/v1/jwks' || req.headers.authorization !== 'Bearer pod-token') {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const port = (api.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'ome-sa-'));
    const noCa = mkdtempSync(join(tmpdir(), 'ome-sa-'));
    try {
      writeFileSync(join(dir, 'token'), 'pod-token');
      writeFileSync(join(dir, 'ca.crt'), tls.ca);
      writeFileSync(join(noCa, 'token'), 'pod-token');
      const sa = await new SignJWT({ 'kubernetes.io': { namespace: 'ns1' } })
        .setProtectedHeader({ alg: 'ES256', kid: 'sa-key' })
        .setIssuer('https://kubernetes.default.svc')
        .setAudience('toolhive')
        .setSubject('system:serviceaccount:ns1:client')
        .setExpirationTime('5m')
        .sign(privateKey);
      const opts = { logger, kind: 'kubernetes' as const, issuer: 'https://kubernetes.default.svc', audience: 'toolhive', useClusterAuth: true, kubernetesAPI: `https://127.0.0.1:${port}` };
      const a = new Authenticator({ ...opts, serviceAccountDir: dir });
      const p = (await check(a, sa)) as Principal;
      expect(p.sub).toBe('system:serviceaccount:ns1:client');
      expect(seen).toEqual(['Bearer pod-token']);
      // without the cluster CA the API server's certificate is not trusted
      const b = new Authenticator({ ...opts, serviceAccountDir: noCa });
      expect(((await check(b, sa)) as Refusal).status).toBe(401);
      // inline OIDC with thvCABundlePath + jwksAuthTokenPath reaches the same TLS endpoint
      writeFileSync(join(dir, 'ca.pem'), tls.ca);
      const c = new Authenticator({
        logger,
        kind: 'oidc',
        issuer: 'https://kubernetes.default.svc',
        audience: 'toolhive',
        jwksURL: `https://127.0.0.1:${port}/openid/v1/jwks`,
        caBundlePath: join(dir, 'ca.pem'),
        jwksAuthTokenPath: join(dir, 'token'),
        allowPrivateIP: true,
      });
      expect(isRefusal(await check(c, sa))).toBe(false);
    } finally {
      api.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(noCa, { recursive: true, force: true });
    }
  });
});
