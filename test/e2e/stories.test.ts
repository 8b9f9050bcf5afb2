// The user stories, end to end on a real node: `kubectl apply -k` of manifests/examples/runnable
// (through test/e2e/examples, which maps the public image names to the locally built ones), pods
// that really run under the kubelet, and MCP clients that list and call tools through the Service
// (kubectl port-forward from the host side, or a client pod inside the cluster).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLIENT_ID, CLIENT_SECRET, startTestIdP, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { generateTls } from '../../injector/webhook/tls.js';
import { textOf } from '../agent/harness.js';
import { modernPost, modernRequest } from '../agent/modern-harness.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyExamples, eventually, getJSON, kubectl, mcpClient, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-demo';
const forwards: PortForward[] = [];
afterAll(() => forwards.forEach((f) => f.close()));

/** port-forward to the Service of an MCPServer and return its MCP URL on 127.0.0.1. */
async function endpoint(service: string, namespace = NS): Promise<string> {
  const f = await portForward(namespace, `svc/${service}`, 8080);
  forwards.push(f);
  return `http://127.0.0.1:${f.port}/mcp`;
}


useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
beforeAll(applyExamples);

describe('hosted stdio servers', () => {
  it('FIFO bridge (a command is given): the TS client lists and calls tools', async () => {
    await waitReady('mcpserver', 'everything-fifo', NS);
    const client = await mcpClient(await endpoint('mcp-everything-fifo'));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'through the FIFO' } }))).toContain('through the FIFO');
    await client.close();
  });

  it('FIFO bridge: the Python SDK client too', async () => {
    const py = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
    if (!existsSync(py)) return void console.warn('skipped: no .venv (created by .ci/run)');
    const url = await endpoint('mcp-everything-fifo');
    const script = fileURLToPath(new URL('../fixtures/py_client.py', import.meta.url));
    const out = JSON.parse(execFileSync(py, [script, 'streamable-http', url, 'echo', JSON.stringify({ message: 'from python' })], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n').pop()!);
    expect(out.tools).toContain('echo');
    expect(out.text).toContain('from python');
  });

  it('attach bridge (image only): the agent attaches to the server container through the kubelet', async () => {
    await waitReady('mcpserver', 'everything-attach', NS);
    const deployment = await getJSON(['-n', NS, 'get', 'deployment', 'mcp-everything-attach']);
    const agent = deployment.spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'mcp-agent');
    expect(agent.args.join(' ')).toContain('--upstream-attach');
    const client = await mcpClient(await endpoint('mcp-everything-attach'));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'attached' } }))).toContain('attached');
    await client.close();
  });
});

describe('HTTP servers', () => {
  it('hosted streamable-http server with a Secret in its environment', async () => {
    await waitReady('mcpserver', 'everything-http', NS);
    const client = await mcpClient(await endpoint('mcp-everything-http'));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('get-env');
    expect(textOf(await client.callTool({ name: 'get-env', arguments: {} }))).toContain('not-a-real-token');
    await client.close();
  });

  it('Remote MCPServer in front of an HTTP MCP server in the cluster (by its Service DNS name)', async () => {
    await waitReady('mcpserver', 'upstream-remote', NS);
    const client = await mcpClient(await endpoint('mcp-upstream-remote'));
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toContain('5');
    await client.close();
  });
});

describe('Kubernetes service-account tokens and Cedar', () => {
  let url: string;
  let token: string;
  beforeAll(async () => {
    await waitReady('mcpserver', 'everything-secured', NS);
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/mcp-client', '--timeout=120s']);
    // The client pod's own projected token (audience everything-mcp), as its workload would send it.
    token = (await kubectl(['-n', NS, 'exec', 'mcp-client', '--', 'cat', '/var/run/secrets/mcp/token'])).trim();
    url = await endpoint('mcp-everything-secured');
  });

  it('refuses a call without a token (401 with resource metadata)', async () => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
  });

  it('with the projected token: lists only what Cedar permits, calls echo, gets 403 for another tool', async () => {
    const client = await mcpClient(url, token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'permitted' } }))).toContain('permitted');
    await client.close();
    // A stateless 2026-07-28 request (docs/modern-protocol.md) shows the HTTP status of a refusal.
    const init = await modernPost(url, modernRequest(1, 'tools/call', { name: 'get-sum', arguments: { a: 1, b: 2 } }), { authorization: `Bearer ${token}` });
    expect(init.status).toBe(403);
  });
});

describe('upstream credentials', () => {
  it('a Remote MCPServer reaches a server that requires a token, with a bearer token from a Secret (manifests/examples/16)', async () => {
    await waitReady('mcpserver', 'everything-secured', NS);
    const token = (await kubectl(['-n', NS, 'create', 'token', 'mcp-client', '--audience', 'everything-mcp', '--duration', '1h'])).trim();
    const example = readFileSync(fileURLToPath(new URL('../../manifests/examples/16-remote-credentials.yaml', import.meta.url)), 'utf8').replace('REPLACE-WITH-A-TOKEN', token);
    await kubectl(['apply', '--server-side', '-f', '-'], { input: example });
    await waitReady('mcpserver', 'secured-remote', NS);
    const cm = await getJSON(['-n', NS, 'get', 'configmap', 'mcp-secured-remote-agent']);
    expect(cm.data['agent.json']).not.toContain(token);
    // No token from this client: the Remote server's agent adds the Secret's to every upstream request.
    const client = await mcpClient(await endpoint('mcp-secured-remote'));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'with the upstream token' } }))).toContain('with the upstream token');
    await client.close();
  });
});

describe('an inline OIDC issuer (a real OpenID provider, TLS with its own CA) and Cedar on its claims', () => {
  let idp: TestIdP;
  let url: string;
  beforeAll(async () => {
    // The provider listens on the host's end of the veth, which pods reach: as an issuer outside
    // the cluster would be. Its certificate is for that IP, signed by a CA only the agent trusts.
    const hostIP = inject('e2eHostIP');
    const tls = await generateTls({ dnsNames: [], ipAddresses: [hostIP] });
    idp = await startTestIdP({ host: hostIP, tls });
    const example = readFileSync(fileURLToPath(new URL('../../manifests/examples/14-oidc-inline.yaml', import.meta.url)), 'utf8')
      .replace('https://idp.example.com', idp.issuer)
      .replace("    # the PEM of your issuer's CA\n", tls.ca.trim().split('\n').map((l) => `    ${l}\n`).join(''))
      .replaceAll('mcp/everything:latest', 'localhost/ome-mcp-test/servers:e2e');
    await kubectl(['apply', '--server-side', '-f', '-'], { input: example });
    await waitReady('mcpserver', 'everything-oidc', NS);
    url = await endpoint('mcp-everything-oidc');
  });
  afterAll(() => idp?.close());

  const metadata = async () => (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', url))).json()) as { resource: string; authorization_servers: string[] };
  const resource = async () => (await metadata()).resource;

  it('a client discovers the issuer, gets a token for the server, lists what Cedar permits and calls echo', async () => {
    const prm = await metadata();
    expect(prm.authorization_servers).toEqual([idp.issuer]);
    const token = await idp.clientCredentialsToken({ resource: prm.resource });
    const client = await mcpClient(url, token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'inline issuer' } }))).toContain('inline issuer');
    await client.close();
  });

  it('a Remote MCPServer reaches it with OAuth client credentials: the agent discovers the issuer and fetches its own token', async () => {
    await kubectl(['-n', NS, 'create', 'secret', 'generic', 'front-oauth', `--from-literal=secret=${CLIENT_SECRET}`]).catch(() => {});
    const front = `
apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: { name: front-oauth, namespace: ${NS} }
spec:
  type: Remote
  url: http://mcp-everything-oidc.${NS}.svc.cluster.local:8080/mcp
  volumes: [{ name: idp-ca, configMap: { name: idp-ca } }]
  volumeMounts: [{ name: idp-ca, mountPath: /etc/idp-ca, readOnly: true }]
  upstreamAuth:
    clientCredentials:
      issuer: ${idp.issuer}
      clientId: ${CLIENT_ID}
      clientSecretRef: { name: front-oauth, key: secret }
      scopes: [tools:call, tools:read]
      caBundlePath: /etc/idp-ca/ca.crt
`;
    await kubectl(['apply', '-f', '-'], { input: front });
    await waitReady('mcpserver', 'front-oauth', NS);
    const cm = await getJSON(['-n', NS, 'get', 'configmap', 'mcp-front-oauth-agent']);
    expect(cm.data['agent.json']).not.toContain(CLIENT_SECRET);
    // This client has no token at all; the front agent's own token carries the call through Cedar's scope rule.
    const client = await mcpClient(await endpoint('mcp-front-oauth'));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'client credentials' } }))).toContain('client credentials');
    await client.close();
  });

  it("a server that runs with the caller's identity: two users at once, each seen by the server with their own exchanged token", async () => {
    await kubectl(['-n', NS, 'create', 'secret', 'generic', 'identity-exchange', `--from-literal=secret=${CLIENT_SECRET}`]).catch(() => {});
    const server = `
apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: { name: identity, namespace: ${NS} }
spec:
  image: localhost/ome-mcp-test/servers:e2e
  transport: streamable-http
  targetPort: 8080
  podTemplateSpec:
    spec:
      containers:
        - name: mcp
          command: ["node", "/srv/identity-server.mjs", "http", "8080"]
  volumes: [{ name: idp-ca, configMap: { name: idp-ca } }]
  volumeMounts: [{ name: idp-ca, mountPath: /etc/idp-ca, readOnly: true }]
  oidcConfig:
    type: inline
    inline: { issuer: ${idp.issuer}, thvCABundlePath: /etc/idp-ca/ca.crt, jwksAllowPrivateIP: true }
  session: { mode: per-session }
  identity:
    mode: exchange
    exchange: { clientId: ${CLIENT_ID}, clientSecretRef: { name: identity-exchange, key: secret }, audience: https://kubernetes.example/api }
`;
    await kubectl(['apply', '-f', '-'], { input: server });
    await waitReady('mcpserver', 'identity', NS);
    const url = await endpoint('mcp-identity');
    const prm = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', url))).json()) as { resource: string };
    const whoami = async (sub: string) => {
      const client = await mcpClient(url, await idp.sign({ sub, aud: prm.resource }));
      const seen = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
      await client.close();
      return seen;
    };
    const [alice, bob] = await Promise.all([whoami('alice'), whoami('bob')]);
    expect(alice).toMatchObject({ sub: 'alice', aud: 'https://kubernetes.example/api', act: { sub: CLIENT_ID } });
    expect(bob).toMatchObject({ sub: 'bob', aud: 'https://kubernetes.example/api' });
    expect(idp.exchanges.map((e) => e.sub)).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it('refuses a token of the same issuer for another audience, and one signed by another key', async () => {
    const post = (token: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}' });
    const other = await idp.clientCredentialsToken({ resource: 'https://other.example.com/mcp' });
    const r1 = await post(other);
    expect(r1.status).toBe(401);
    expect(r1.headers.get('www-authenticate')).toMatch(/invalid_token/);
    // Right issuer and audience, wrong key (the same kid as the real one).
    const rogue = await startTestIdP();
    const forged = await rogue.sign({ iss: idp.issuer, aud: await resource() });
    await rogue.close();
    expect((await post(forged)).status).toBe(401);
  });
});

describe('a ClusterMCPServer used from two namespaces', () => {
  it('client pods in team-a and team-b call it through its Service name with their own service-account tokens', async () => {
    await waitReady('clustermcpserver', 'shared-everything');
    const url = 'http://cmcp-shared-everything.ome-mcp-system.svc.cluster.local:8080/mcp';
    // The caller's projected token (audience shared-everything), as MCP_TOKEN_FILE for mcp-call.mjs.
    const withToken = JSON.stringify({
      spec: {
        containers: [{ name: 'caller', env: [{ name: 'MCP_TOKEN_FILE', value: '/var/run/secrets/mcp/token' }], volumeMounts: [{ name: 'mcp-token', mountPath: '/var/run/secrets/mcp', readOnly: true }] }],
        volumes: [{ name: 'mcp-token', projected: { sources: [{ serviceAccountToken: { audience: 'shared-everything', expirationSeconds: 3600, path: 'token' } }] } }],
      },
    });
    const callers = [
      ['team-a', 'caller', withToken],
      ['team-b', 'caller', withToken],
      ['team-b', 'anonymous', undefined],
    ] as const;
    for (const [ns, name, overrides] of callers) {
      await kubectl(['-n', ns, 'delete', 'pod', name, '--ignore-not-found', '--wait=true']);
      await kubectl([
        '-n', ns, 'run', name, '--restart=Never', '--image=localhost/ome-mcp-test/servers:e2e', '--image-pull-policy=Never',
        ...(overrides ? ['--override-type=strategic', `--overrides=${overrides.replace('"caller"', JSON.stringify(name))}`] : []),
        '--command', '--', 'node', '/srv/mcp-call.mjs', url, 'echo', JSON.stringify({ message: `hello from ${ns}` }),
      ]);
    }
    const outcome = async (ns: string, name: string) => {
      const line = await eventually(`${name} in ${ns} finished`, async () => {
        const phase = (await kubectl(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).trim();
        return phase === 'Succeeded' || phase === 'Failed' ? (await kubectl(['-n', ns, 'logs', name])).trim() : undefined;
      });
      return JSON.parse(line.split('\n').pop()!);
    };
    for (const ns of ['team-a', 'team-b']) {
      const out = await outcome(ns, 'caller');
      expect(out.error).toBeUndefined();
      expect(textOf(out.result)).toContain(`hello from ${ns}`);
    }
    expect((await outcome('team-b', 'anonymous')).error).toMatch(/401|Unauthorized|invalid_token/i);
  });
});
