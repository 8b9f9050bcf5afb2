import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAgentConfig, ValidationError } from '../../../api/agent-config.js';
import { ErrorCode, type JsonRpcRequest } from '../../protocol/jsonrpc.js';
import { createPolicyPipeline, isRefusal, type PolicyPipeline, type Principal, type Refusal } from '../index.js';
import { createTestCA } from '../testing/client-certs.js';
import { ApiKeyMethod } from './api-key.js';
import { BasicMethod } from './basic.js';
import { certificatePrincipal, ClientCertificateMethod } from './client-certificate.js';
import { peerOf, type Credentials, type PeerIdentity } from './credentials.js';
import { FailureLimiter } from './failures.js';
import { ARGON2_SUPPORTED } from './password-hash.js';

const silent = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'authn-methods-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALICE_KEY = 'ak_live_3f9c1e7a5b2d4c6e8f0a1b3c5d7e9f11';
const BOB_KEY = 'ak_live_0d2b4f6a8c0e2a4c6e8a0c2e4a6c8e00';
const sha = (k: string) => 'sha256:' + createHash('sha256').update(k).digest('hex');
const ALICE_PASSWORD = 'correct horse battery staple';
const ALICE_HASH = bcrypt.hashSync(ALICE_PASSWORD, 4);

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const keysFile = file('keys.yaml', `- hash: ${sha(ALICE_KEY)}\n  principal: alice\n  groups: [ops, dev]\n- hash: ${sha(BOB_KEY)}\n  principal: bob\n`);
const usersFile = file('users.yaml', `- user: alice\n  hash: "${ALICE_HASH}"\n  groups: [ops]\n`);

function creds(h: Record<string, string> = {}, extra: Partial<Credentials> = {}): Credentials {
  const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  return { authorization: lower.authorization, header: (n) => lower[n.toLowerCase()], peer: undefined, address: '10.0.0.1', ...extra };
}
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const req = (method: string, params?: Record<string, unknown>): JsonRpcRequest => ({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });

const open: PolicyPipeline[] = [];
afterAll(async () => {
  for (const p of open) await p.close();
});
async function pipeline(config: Record<string, unknown>, logger = silent): Promise<PolicyPipeline> {
  const p = await createPolicyPipeline(parseAgentConfig(config), { logger });
  open.push(p);
  return p;
}
const allMethods = (extra: Record<string, unknown> = {}) => ({
  name: 'srv',
  authentication: { methods: [{ type: 'ApiKey', keysFile }, { type: 'Basic', usersFile }, { type: 'None' }], ...extra },
});

describe('ApiKey', () => {
  const m = new ApiKeyMethod({ logger: silent, keysFile, watch: false });
  afterAll(() => m.close());

  it('accepts a listed key: its principal, groups and method', () => {
    const p = m.authenticate(creds({ 'X-API-Key': ALICE_KEY })) as Principal;
    expect(p).toMatchObject({ sub: 'alice', method: 'ApiKey', key: 'urn:ome-mcp:auth:ApiKey|alice' });
    expect(p.claims).toMatchObject({ sub: 'alice', groups: ['ops', 'dev'], auth_method: 'ApiKey' });
    // The same key is the same principal object (Cedar's per-principal caches hold).
    expect(m.authenticate(creds({ 'x-api-key': ALICE_KEY }))).toBe(p);
  });

  it('refuses an unknown key (401 with the header named), and passes when there is no key', () => {
    const r = m.authenticate(creds({ 'X-API-Key': ALICE_KEY + 'x' })) as Refusal;
    expect(r.status).toBe(401);
    expect(r.headers['WWW-Authenticate']).toBe('ApiKey header="X-API-Key"');
    expect(m.authenticate(creds({ authorization: `Bearer ${ALICE_KEY}` }))).toBeUndefined();
  });

  it('reads the configured header', () => {
    const custom = new ApiKeyMethod({ logger: silent, keysFile, header: 'X-Tenant-Key', watch: false });
    expect(custom.authenticate(creds({ 'X-API-Key': ALICE_KEY }))).toBeUndefined();
    expect((custom.authenticate(creds({ 'X-Tenant-Key': BOB_KEY })) as Principal).sub).toBe('bob');
    custom.close();
  });

  it('a bad keys file stops the start with the file and entry named, quoting nothing from it', () => {
    const bad = file('bad-keys.yaml', `- hash: sha256:${'ab'.repeat(31)}\n  principal: x\n`);
    expect(() => new ApiKeyMethod({ logger: silent, keysFile: bad, watch: false })).toThrow(/bad-keys.yaml: entry 0: hash must be/);
    const notYaml = file('not-yaml.yaml', `- hash: "${sha(ALICE_KEY)}\n  x: [\n`);
    let message = '';
    try {
      new ApiKeyMethod({ logger: silent, keysFile: notYaml, watch: false });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/not valid YAML/);
    expect(message).not.toContain(sha(ALICE_KEY).slice(7, 20));
  });
});

describe('Basic', () => {
  const m = new BasicMethod({ logger: silent, usersFile, realm: 'srv', watch: false });
  afterAll(() => m.close());

  it('accepts the right password (bcrypt), then answers from its cache synchronously', async () => {
    const first = m.authenticate(creds(basic('alice', ALICE_PASSWORD)));
    expect(first).toBeInstanceOf(Promise);
    const p = (await first) as Principal;
    expect(p).toMatchObject({ sub: 'alice', method: 'Basic' });
    expect(p.claims).toMatchObject({ groups: ['ops'], auth_method: 'Basic' });
    expect(m.authenticate(creds(basic('alice', ALICE_PASSWORD)))).toBe(p);
  });

  it('refuses a wrong password, an unknown user and malformed credentials, with the realm', async () => {
    for (const c of [basic('alice', 'wrong'), basic('mallory', ALICE_PASSWORD), { authorization: 'Basic bm9jb2xvbg==' }]) {
      const r = (await m.authenticate(creds(c))) as Refusal;
      expect(isRefusal(r)).toBe(true);
      expect(r.status).toBe(401);
      expect(r.headers['WWW-Authenticate']).toBe('Basic realm="srv", charset="UTF-8"');
    }
    expect(m.authenticate(creds({ authorization: 'Bearer x.y.z' }))).toBeUndefined();
  });

  it.skipIf(!ARGON2_SUPPORTED)('accepts an argon2id hash (node:crypto argon2)', async () => {
    const { argon2Sync } = (await import('node:crypto')) as unknown as { argon2Sync(a: string, p: Record<string, unknown>): Buffer };
    const salt = Buffer.from('0123456789abcdef');
    const tag = argon2Sync('argon2id', { message: 'pw-of-carol', nonce: salt, parallelism: 1, tagLength: 32, memory: 1024, passes: 2 });
    const phc = `$argon2id$v=19$m=1024,t=2,p=1$${salt.toString('base64').replace(/=+$/, '')}$${tag.toString('base64').replace(/=+$/, '')}`;
    const a = new BasicMethod({ logger: silent, usersFile: file('argon.yaml', `- user: carol\n  hash: "${phc}"\n`), realm: 'r', watch: false });
    expect(((await a.authenticate(creds(basic('carol', 'pw-of-carol')))) as Principal).sub).toBe('carol');
    expect(isRefusal(await a.authenticate(creds(basic('carol', 'nope'))))).toBe(true);
    a.close();
  });

  it.skipIf(ARGON2_SUPPORTED)('an argon2 hash on a Node without argon2 is a clear start error', () => {
    const f = file('argon-old.yaml', `- user: carol\n  hash: "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"\n`);
    expect(() => new BasicMethod({ logger: silent, usersFile: f, realm: 'r', watch: false })).toThrow(/entry 0: argon2 hashes need Node 24.7/);
  });
});

describe('ClientCertificate', () => {
  const cert = (subject: Record<string, string | string[]>, san?: string) => ({ subject, issuer: { CN: 'ca' }, subjectaltname: san, fingerprint256: JSON.stringify(subject) + san, serialNumber: '01' }) as never;
  const peer = (certificate: unknown, authorized = true, error?: string): PeerIdentity => ({ certificate: certificate as PeerIdentity['certificate'], authorized, error });

  it('a verified certificate: CN is the subject, O and OU the groups, SANs in the claims', () => {
    const m = new ClientCertificateMethod();
    const p = m.authenticate(creds({}, { peer: peer(cert({ CN: 'svc-a', O: 'ops', OU: ['team-1', 'team-2'] }, 'DNS:a.example, URI:spiffe://cluster/ns/a, email:a@example.com')) })) as Principal;
    expect(p).toMatchObject({ sub: 'svc-a', method: 'ClientCertificate' });
    expect(p.claims).toMatchObject({ groups: ['ops', 'team-1', 'team-2'], dns: ['a.example'], uri: ['spiffe://cluster/ns/a'], email: ['a@example.com'], auth_method: 'ClientCertificate' });
    expect(certificatePrincipal(cert({ O: 'x' }, 'URI:spiffe://cluster/ns/b'))!.sub).toBe('spiffe://cluster/ns/b');
  });

  it('an unverified certificate is refused, none passes on', () => {
    const m = new ClientCertificateMethod();
    const r = m.authenticate(creds({}, { peer: peer(cert({ CN: 'x' }), false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') })) as Refusal;
    expect(r.status).toBe(401);
    expect(r.reason).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(m.authenticate(creds({}, { peer: peer(undefined, false) }))).toBeUndefined();
    expect(m.authenticate(creds())).toBeUndefined();
  });

  it('over a real TLS socket pair: the server reads the verified client certificate (peerOf)', async () => {
    const ca = await createTestCA();
    const stranger = await createTestCA('CN=stranger');
    const server = await ca.issue('CN=127.0.0.1', { ip: ['127.0.0.1'] }, 'server');
    const good = await ca.issue('CN=alice,O=ops', { uri: ['spiffe://test/alice'] });
    const bad = await stranger.issue('CN=mallory,O=ops');
    const seen: (PeerIdentity | undefined)[] = [];
    const srv = createTlsServer({ ...server, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, (s) => {
      seen.push(peerOf(s));
      s.end('ok');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const dial = (client?: { cert: string; key: string }) =>
      new Promise<void>((resolve, reject) => {
        const s: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ca: ca.cert, ...(client ?? {}) }, () => s.resume());
        s.on('end', () => resolve());
        s.on('error', reject);
      });
    await dial(good);
    await dial(bad);
    await dial();
    srv.close();
    const m = new ClientCertificateMethod();
    const [g, b, none] = seen.map((p) => m.authenticate(creds({}, { peer: p })));
    expect(g).toMatchObject({ sub: 'alice', claims: { groups: ['ops'], uri: ['spiffe://test/alice'] } });
    expect((b as Refusal).status).toBe(401);
    expect(none).toBeUndefined();
  });
});

describe('the chain', () => {
  it('tries methods in order: absent passes on, a wrong credential refuses without reaching None', async () => {
    const p = await pipeline(allMethods());
    expect((p.authenticate(creds({ 'X-API-Key': ALICE_KEY })) as Principal).method).toBe('ApiKey');
    expect(((await p.authenticate(creds(basic('alice', ALICE_PASSWORD)))) as Principal).method).toBe('Basic');
    expect((p.authenticate(creds()) as Principal).key).toBe('anonymous');
    expect((p.authenticate(creds({ 'X-API-Key': 'wrong' })) as Refusal).status).toBe(401);
    expect(((await p.authenticate(creds(basic('alice', 'wrong')))) as Refusal).status).toBe(401);
    // Both credentials: the first declared method decides.
    expect((p.authenticate(creds({ 'X-API-Key': BOB_KEY, ...basic('alice', ALICE_PASSWORD) })) as Principal).sub).toBe('bob');
  });

  it('without None, no credential is 401 naming every method, with every challenge', async () => {
    const p = await pipeline({ name: 'srv', authentication: { methods: [{ type: 'ApiKey', keysFile }, { type: 'Basic', usersFile }] } });
    const r = p.authenticate(creds()) as Refusal;
    expect(r.status).toBe(401);
    expect(r.message).toBe('Unauthorized: an API key (header X-API-Key) or a username and password is required');
    expect(r.headers['WWW-Authenticate']).toBe('ApiKey header="X-API-Key", Basic realm="srv", charset="UTF-8"');
  });

  it('the order rules are config errors: None only last, each type once, Bearer needs oidcConfig', () => {
    const issues = (methods: unknown[]) => {
      try {
        parseAgentConfig({ authentication: { methods } });
        return [];
      } catch (e) {
        return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(issues([{ type: 'None' }, { type: 'ApiKey', keysFile }])).toEqual(['authentication.methods[0].type: None accepts every caller, so it may only be the last method']);
    expect(issues([{ type: 'Bearer' }])).toEqual(['authentication.methods[0].type: Bearer verifies tokens per oidcConfig, which is not set']);
    expect(issues([{ type: 'ApiKey', keysFile }, { type: 'ApiKey', keysFile }])).toEqual(['authentication.methods[1].type: ApiKey is listed twice']);
    expect(issues([{ type: 'ApiKey' }])).toEqual(['authentication.methods[0]: keysFile is required for ApiKey']);
  });

  it('rate limits failures per client address: 429 with Retry-After and -32029, other addresses unaffected', async () => {
    const p = await pipeline(allMethods({ maxFailuresPerMinute: 3 }));
    const from = (address: string, h: Record<string, string>) => creds(h, { address });
    for (let i = 0; i < 3; i++) expect((p.authenticate(from('10.1.1.1', { 'X-API-Key': 'guess' + i })) as Refusal).status).toBe(401);
    const r = p.authenticate(from('10.1.1.1', { 'X-API-Key': ALICE_KEY })) as Refusal;
    expect(r.status).toBe(429);
    expect(r.code).toBe(ErrorCode.RateLimited);
    expect(Number(r.headers['Retry-After'])).toBeGreaterThan(0);
    expect(r.toError()).toMatchObject({ code: -32029, data: { retryAfterSeconds: Number(r.headers['Retry-After']) } });
    expect((p.authenticate(from('10.1.1.2', { 'X-API-Key': ALICE_KEY })) as Principal).sub).toBe('alice');
    // No credential is no failure: OAuth clients probe without one.
    for (let i = 0; i < 5; i++) p.authenticate(from('10.1.1.3', {}));
    expect((p.authenticate(from('10.1.1.3', { 'X-API-Key': ALICE_KEY })) as Principal).sub).toBe('alice');
  });

  it('the failure window ends after a minute; the tracked addresses are bounded', () => {
    let now = 0;
    const l = new FailureLimiter({ maxPerMinute: 2, capacity: 100, now: () => now });
    l.record('a');
    l.record('a');
    expect(l.check('a')?.headers['Retry-After']).toBe('60');
    now = 59_001;
    expect(l.check('a')?.headers['Retry-After']).toBe('1');
    now = 60_000;
    expect(l.check('a')).toBeUndefined();
    for (let i = 0; i < 1000; i++) l.record(`x${i}`);
    expect(l.tracked).toBe(100);
  });
});

describe('no secret in any log line or audit entry', () => {
  it('keys, passwords, hashes and headers never reach the log, whatever the outcome', async () => {
    const out: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (s: string) => void out.push(s) });
    const keys = file('log-keys.yaml', `- hash: ${sha(ALICE_KEY)}\n  principal: alice\n`);
    const p = await pipeline({ name: 'srv', audit: { enabled: true }, authentication: { methods: [{ type: 'ApiKey', keysFile: keys }, { type: 'Basic', usersFile }] } }, logger);
    p.authenticate(creds({ 'X-API-Key': ALICE_KEY }));
    p.authenticate(creds({ 'X-API-Key': BOB_KEY }));
    await p.authenticate(creds(basic('alice', ALICE_PASSWORD)));
    await p.authenticate(creds(basic('alice', 'hunter2-wrong')));
    // A broken rotation: the error names the file, not the content.
    writeFileSync(keys, `- hash: ${sha(BOB_KEY)}\n  principal: [\n`);
    await new Promise((r) => setTimeout(r, 600));
    const text = out.join('');
    expect(text).toContain('authenticate'); // audit lines were written
    expect(text).toContain('API keys reload failed');
    for (const secret of [ALICE_KEY, BOB_KEY, ALICE_PASSWORD, 'hunter2-wrong', ALICE_HASH, sha(ALICE_KEY).slice(7), sha(BOB_KEY).slice(7), basic('alice', ALICE_PASSWORD).authorization.slice(6)]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('rotation', () => {
  it('a rotated keys file is used without a restart; a broken one keeps the last good set', async () => {
    const sub = mkdtempSync(join(dir, 'rot-'));
    const path = join(sub, 'keys');
    writeFileSync(path, `- hash: ${sha(ALICE_KEY)}\n  principal: alice\n`);
    const m = new ApiKeyMethod({ logger: silent, keysFile: path, debounceMs: 20 });
    expect((m.authenticate(creds({ 'X-API-Key': ALICE_KEY })) as Principal).sub).toBe('alice');
    // As the kubelet does: a new file swapped in by rename.
    writeFileSync(join(sub, '.tmp'), `- hash: ${sha(BOB_KEY)}\n  principal: bob\n`);
    renameSync(join(sub, '.tmp'), path);
    await expect.poll(() => isRefusal(m.authenticate(creds({ 'X-API-Key': ALICE_KEY }))), { timeout: 3000 }).toBe(true);
    expect((m.authenticate(creds({ 'X-API-Key': BOB_KEY })) as Principal).sub).toBe('bob');
    writeFileSync(path, 'not: [a, list');
    await new Promise((r) => setTimeout(r, 200));
    expect(m.keys.reload()).toBe(false);
    expect((m.authenticate(creds({ 'X-API-Key': BOB_KEY })) as Principal).sub).toBe('bob');
    m.close();
  });

  it('a rotated users file drops the remembered checks', async () => {
    const path = file('users-rot.yaml', `- user: alice\n  hash: "${ALICE_HASH}"\n`);
    const m = new BasicMethod({ logger: silent, usersFile: path, realm: 'r', watch: false });
    expect(((await m.authenticate(creds(basic('alice', ALICE_PASSWORD)))) as Principal).sub).toBe('alice');
    writeFileSync(path, `- user: alice\n  hash: "${bcrypt.hashSync('new password', 4)}"\n`);
    expect(m.users.reload()).toBe(true);
    expect(isRefusal(await m.authenticate(creds(basic('alice', ALICE_PASSWORD))))).toBe(true);
    m.close();
  });
});

describe('one principal shape for Cedar', () => {
  it('a group policy admits the group whichever method identified the caller', async () => {
    const p = await pipeline({
      ...allMethods(),
      authzConfig: { type: 'inline', inline: { policies: ['permit(principal in THVGroup::"ops", action == Action::"call_tool", resource == Tool::"deploy");'] } },
    });
    const call = req('tools/call', { name: 'deploy', arguments: {} });
    const viaKey = p.authenticate(creds({ 'X-API-Key': ALICE_KEY })) as Principal;
    const viaBasic = (await p.authenticate(creds(basic('alice', ALICE_PASSWORD)))) as Principal;
    const viaCert = new ClientCertificateMethod().authenticate(
      creds({}, { peer: { authorized: true, certificate: { subject: { CN: 'svc', O: 'ops' }, issuer: {}, fingerprint256: 'f', serialNumber: '1' } as never } }),
    ) as Principal;
    const bob = p.authenticate(creds({ 'X-API-Key': BOB_KEY })) as Principal;
    const anonymous = p.authenticate(creds()) as Principal;
    for (const who of [viaKey, viaBasic, viaCert]) expect(p.checkRequest(who, call)).toBeNull();
    for (const who of [bob, anonymous]) expect(p.checkRequest(who, call)?.status).toBe(403);
  });

  it('policies can name the method: claim_auth_method', async () => {
    const p = await pipeline({
      ...allMethods(),
      authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action == Action::"call_tool", resource) when { principal.claim_auth_method == "ApiKey" };'] } },
    });
    const call = req('tools/call', { name: 'x', arguments: {} });
    expect(p.checkRequest(p.authenticate(creds({ 'X-API-Key': BOB_KEY })) as Principal, call)).toBeNull();
    expect(p.checkRequest((await p.authenticate(creds(basic('alice', ALICE_PASSWORD)))) as Principal, call)?.status).toBe(403);
  });
});
