// Client authentication methods on the real node (manifests/examples/runnable/18-auth-methods.yaml):
// an MCPServer with ApiKey and Basic from Secrets mounted into the agent alone. A TS SDK client with
// the API key of the `ops` group calls a tool; a bad key is 401; a key outside the group is denied
// by Cedar; a Basic user calls a tool; a user added to the Secret (with an argon2id hash made by the
// agent image's own Node) is accepted once the kubelet updates the volume, with no pod restart.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestCA, type Pem } from '../../agent/policy/testing/client-certs.js';
import { textOf } from '../agent/harness.js';
import { applyExamples, eventually, getJSON, kubectl, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-demo';
const NAME = 'everything-auth';
const SERVICE = `mcp-${NAME}`;
const OPS_KEY = 'omk_demo_5f2a9c71e4b84d0fa3c6e1b97d2058aa';
const VIEWER_KEY = 'omk_demo_0c93d1be7a4f42e6b85d19c3a7e6f401';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
let forward: PortForward;
let url: string;
afterAll(() => forward?.close());

beforeAll(async () => {
  await applyExamples();
  await waitReady('mcpserver', NAME, NS);
  forward = await portForward(NS, `svc/${SERVICE}`, 8080);
  url = `http://127.0.0.1:${forward.port}/mcp`;
});

async function echo(headers: Record<string, string>, message: string): Promise<string> {
  const client = new Client({ name: 'ome-mcp-e2e-auth', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  try {
    return textOf(await client.callTool({ name: 'echo', arguments: { message } }));
  } finally {
    await client.close();
  }
}

const initialize = (headers: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });

const podOf = async () => (await getJSON(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/instance=${NAME}`])).items.filter((p: any) => !p.metadata.deletionTimestamp)[0];
const agentNode = async (script: string) => kubectl(['-n', NS, 'exec', (await podOf()).metadata.name, '-c', 'mcp-agent', '--', 'node', '-e', script]);

describe('an MCPServer with ApiKey and Basic authentication', () => {
  it('the API key of a group member calls a tool; a bad key is 401; no credential is 401 naming both methods', async () => {
    expect(await echo({ 'X-API-Key': OPS_KEY }, 'by key')).toContain('by key');
    const bad = await initialize({ 'X-API-Key': OPS_KEY.slice(0, -1) + '0' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe('ApiKey header="X-API-Key"');
    const none = await initialize({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('ApiKey header="X-API-Key", Basic realm="everything", charset="UTF-8"');
    expect((await none.json()).error.message).toBe('Unauthorized: an API key (header X-API-Key) or a username and password is required');
  });

  it('Cedar reads the groups from the keys file: a key outside `ops` is authenticated, sees no tools and may call none', async () => {
    const client = new Client({ name: 'ome-mcp-e2e-viewer', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { 'X-API-Key': VIEWER_KEY } } }));
    // tools/list is filtered to what the caller may call.
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('echo');
    await expect(client.callTool({ name: 'echo', arguments: { message: 'no' } })).rejects.toThrow(/Forbidden|denied/);
    await client.close();
  });

  it('a Basic user of the group calls a tool; a wrong password is 401', async () => {
    expect(await echo(basic('alice', 'demo-password-alice'), 'by password')).toContain('by password');
    expect((await initialize(basic('alice', 'wrong'))).status).toBe(401);
  });

  it('the Secrets reach the agent container alone', async () => {
    const pod = await podOf();
    const has = (container: string) => kubectl(['-n', NS, 'exec', pod.metadata.name, '-c', container, '--', 'node', '-e', "process.stdout.write(String(require('fs').existsSync('/etc/ome-mcp-auth/method-0')))"]);
    expect(await has('mcp-agent')).toBe('true');
    expect(await has('mcp')).toBe('false');
  });

  it('a user added to the Secret, with an argon2id hash, is accepted without a pod restart', async () => {
    const before = await podOf();
    const restarts = (p: any) => [...(p.status.initContainerStatuses ?? []), ...p.status.containerStatuses].map((c: any) => c.restartCount).join(',');
    // The hash is made where argon2 runs: the agent image's Node (node:crypto argon2, Node ≥ 24.7).
    const hash = await agentNode(
      "const c=require('crypto');const s=c.randomBytes(16);const t=c.argon2Sync('argon2id',{message:'carol-password',nonce:s,parallelism:1,tagLength:32,memory:19456,passes:2});" +
        "const b=(x)=>x.toString('base64').replace(/=+$/,'');process.stdout.write('$argon2id$v=19$m=19456,t=2,p=1$'+b(s)+'$'+b(t))",
    );
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    const users = `- user: alice\n  hash: $2b$10$ldWAIjFRI/gUvgtt6ZORjO96YPQue..9PSiKMu.qR/SGEOJX8Eq36\n  groups: [ops]\n- user: carol\n  hash: "${hash}"\n  groups: [ops]\n`;
    expect((await initialize(basic('carol', 'carol-password'))).status).toBe(401);
    const t0 = Date.now();
    await kubectl(['-n', NS, 'patch', 'secret', 'everything-users', '--type', 'merge', '-p', JSON.stringify({ stringData: { 'users.yaml': users } })]);
    // Waits on the agent's log, not on failing tries (they would count against this address's failure limit).
    const logs = () => kubectl(['-n', NS, 'logs', before.metadata.name, '-c', 'mcp-agent']);
    await eventually('the users file reloaded', async () => (await logs()).includes('Basic users reloaded'), 150_000, 2000);
    expect((await initialize(basic('carol', 'carol-password'))).status).toBe(200);
    console.log(`[auth] a user added to the Secret was accepted ${Date.now() - t0} ms after the patch`);
    expect(await echo(basic('carol', 'carol-password'), 'argon2')).toContain('argon2');
    const after = await podOf();
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(restarts(after)).toBe(restarts(before));
    expect(await logs()).not.toContain('carol-password');
  });

  it('ten wrong keys in a minute from one address are 429 with Retry-After (-32029)', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 12 && last?.status !== 429; i++) last = await initialize({ 'X-API-Key': `wrong-${i}` });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await last!.json()).error).toMatchObject({ code: -32029, data: { retryAfterSeconds: expect.any(Number) } });
    // The same address with the right key waits too: the limit is checked before any credential.
    expect((await initialize({ 'X-API-Key': OPS_KEY })).status).toBe(429);
  });
});

describe('an MCPServer with spec.tls and ClientCertificate authentication (mTLS)', () => {
  const MTLS = 'auth-mtls';
  let mtlsForward: PortForward;
  let mtlsUrl: string;
  let ca: string;
  let member: Pem;
  let outsider: Pem;
  let stranger: Pem;
  const dispatchers: Agent[] = [];
  afterAll(async () => {
    mtlsForward?.close();
    await Promise.all(dispatchers.map((d) => d.close()));
  });
  /** fetch trusting the test CA, presenting `cert` when given (connections of its own). */
  const presenting = (cert?: Pem): typeof fetch => {
    const dispatcher = new Agent({ connect: { ca, ...(cert ?? {}) } });
    dispatchers.push(dispatcher);
    return ((u: string | URL, init?: RequestInit) => undiciFetch(u, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
  };
  const apply = (o: unknown) => kubectl(['apply', '-f', '-'], { input: JSON.stringify(o) });

  beforeAll(async () => {
    const authority = await createTestCA('CN=e2e client CA');
    ca = authority.cert;
    const service = `mcp-${MTLS}`;
    const server = await authority.issue(`CN=${service}.${NS}.svc`, { dns: [`${service}.${NS}.svc`, `${service}.${NS}.svc.cluster.local`], ip: ['127.0.0.1'] }, 'server');
    member = await authority.issue('CN=report-job,O=ops', { uri: ['spiffe://e2e/ns/reports/sa/report-job'] });
    outsider = await authority.issue('CN=guest,O=visitors');
    stranger = await (await createTestCA('CN=not trusted')).issue('CN=report-job,O=ops');
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    await apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: `${MTLS}-tls`, namespace: NS }, data: { 'tls.crt': b64(server.cert), 'tls.key': b64(server.key) } });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${MTLS}-client-ca`, namespace: NS }, data: { 'ca.crt': ca } });
    await apply({
      apiVersion: 'ome.io/v1beta1',
      kind: 'MCPServer',
      metadata: { name: MTLS, namespace: NS },
      spec: {
        image: 'localhost/ome-mcp-test/servers:e2e',
        podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['node', 'dist/index.js', 'stdio'] }] } },
        tls: { secretName: `${MTLS}-tls` },
        authentication: { methods: [{ type: 'ClientCertificate', caRef: { kind: 'ConfigMap', name: `${MTLS}-client-ca` } }] },
        authzConfig: { type: 'inline', inline: { policies: ['permit(principal in THVGroup::"ops", action == Action::"call_tool", resource == Tool::"echo");'] } },
      },
    });
    await waitReady('mcpserver', MTLS, NS);
    mtlsForward = await portForward(NS, `svc/${service}`, 8080);
    mtlsUrl = `https://127.0.0.1:${mtlsForward.port}/mcp`;
  });

  it('a certificate of the CA with O=ops calls a tool; O=visitors is denied by Cedar; another CA, or none, is 401', async () => {
    const client = new Client({ name: 'ome-mcp-e2e-mtls', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mtlsUrl), { fetch: presenting(member) }));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'by certificate' } }))).toContain('by certificate');
    await client.close();
    const guest = new Client({ name: 'ome-mcp-e2e-mtls-guest', version: '1.0.0' });
    await guest.connect(new StreamableHTTPClientTransport(new URL(mtlsUrl), { fetch: presenting(outsider) }));
    await expect(guest.callTool({ name: 'echo', arguments: { message: 'no' } })).rejects.toThrow(/Forbidden|denied/);
    await guest.close();
    const init = (f: typeof fetch) =>
      f(mtlsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
      });
    expect((await init(presenting(stranger))).status).toBe(401);
    const none = await init(presenting());
    expect(none.status).toBe(401);
    expect((await none.json()).error.message).toBe('Unauthorized: a client certificate is required');
  });

  it('the client CA is mounted into the agent alone and named as its tls.clientCAFile', async () => {
    const config = JSON.parse((await getJSON(['-n', NS, 'get', 'configmap', `mcp-${MTLS}-agent`])).data['agent.json']);
    expect(config.tls.clientCAFile).toBe('/etc/ome-mcp-auth/client-ca.crt');
    expect(config.authentication.methods).toEqual([{ type: 'ClientCertificate' }]);
  });
});
