// Declarative tools, prompts and resources on the real node: an ordinary HTTP API runs as a
// Deployment + Service; MCPTool / MCPPrompt / MCPResource objects describe it; an MCPServer of
// type Catalog (the agent alone) and a Hosted server-everything select them by label. The TS and
// Python SDK clients call the declared tools through the Service; an edited object reaches the
// open session as list_changed with no pod restart; a bad template is a status condition; the
// Secret behind a header never appears in a ConfigMap or a log.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { textOf } from '../agent/harness.js';
import { eventually, everythingServer, getJSON, kubectl, mcpClient, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-catalog';
const KEY = randomBytes(12).toString('hex');
const forwards: PortForward[] = [];

const base = `
apiVersion: v1
kind: Secret
metadata: { name: docs-api-key, namespace: ${NS} }
stringData: { key: ${KEY} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: docs-readme, namespace: ${NS} }
data: { readme.md: "# Docs v1" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: docs-api, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: docs-api } }
  template:
    metadata: { labels: { app: docs-api } }
    spec:
      automountServiceAccountToken: false
      containers:
        - name: api
          image: localhost/ome-mcp-test/servers:e2e
          command: ["node", "/srv/catalog-endpoint.mjs", "8080"]
          env: [{ name: EXPECTED_KEY, valueFrom: { secretKeyRef: { name: docs-api-key, key: key } } }]
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
          securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
---
apiVersion: v1
kind: Service
metadata: { name: docs-api, namespace: ${NS} }
spec: { selector: { app: docs-api }, ports: [{ port: 8080, targetPort: 8080 }] }
---
apiVersion: ome.io/v1beta1
kind: MCPTool
metadata: { name: search-docs, namespace: ${NS}, labels: { catalog: docs } }
spec:
  name: search_docs
  description: Search the documentation
  inputSchema: { type: object, properties: { query: { type: string } }, required: [query] }
  annotations: { readOnlyHint: true, idempotentHint: true }
  target: { service: { name: docs-api, port: 8080 }, path: "/search/{query}", method: GET }
---
apiVersion: ome.io/v1beta1
kind: MCPTool
metadata: { name: check-key, namespace: ${NS}, labels: { catalog: docs } }
spec:
  name: check_key
  target:
    service: { name: docs-api, port: 8080 }
    path: /key
    method: GET
    headers: [{ name: X-Api-Key, secretKeyRef: { name: docs-api-key, key: key } }]
---
apiVersion: ome.io/v1beta1
kind: MCPPrompt
metadata: { name: review, namespace: ${NS}, labels: { catalog: docs } }
spec:
  arguments: [{ name: page, required: true }]
  template: "Review the page {{page}} for accuracy."
---
apiVersion: ome.io/v1beta1
kind: MCPResource
metadata: { name: readme, namespace: ${NS}, labels: { catalog: docs } }
spec:
  uri: docs://readme
  mimeType: text/markdown
  configMapKeyRef: { name: docs-readme, key: readme.md }
---
apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: { name: docs, namespace: ${NS} }
spec:
  type: Catalog
  toolSelector: { matchLabels: { catalog: docs } }
`;

async function endpoint(service: string): Promise<string> {
  const f = await portForward(NS, `svc/${service}`, 8080);
  forwards.push(f);
  return `http://127.0.0.1:${f.port}/mcp`;
}

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));

beforeAll(async () => {
  await kubectl(['create', 'namespace', NS]).catch(() => {});
  await eventually('the catalog objects applied', async () => (await kubectl(['apply', '-f', '-'], { input: base }), true), 60_000, 2000);
  await kubectl(['-n', NS, 'rollout', 'status', 'deployment/docs-api', '--timeout=180s'], { timeoutMs: 190_000 });
  await waitReady('mcpserver', 'docs', NS);
});
afterAll(() => forwards.forEach((f) => f.close()));

describe('a Catalog server (the agent alone) on the real node', () => {
  let client: Client;
  beforeAll(async () => {
    client = await mcpClient(await endpoint('mcp-docs'));
  });
  afterAll(async () => client?.close());

  it('the TS client lists the declared tools and calls one on the in-cluster Service', async () => {
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['check_key', 'search_docs']);
    const r = await client.callTool({ name: 'search_docs', arguments: { query: 'install' } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ query: 'install', results: ['install guide'] });
  });

  it('sends the header from the Secret; the value is in no ConfigMap and no log', async () => {
    expect((await client.callTool({ name: 'check_key', arguments: {} })).structuredContent).toEqual({ keyOk: true });
    const cms = await kubectl(['-n', NS, 'get', 'configmaps', '-o', 'json']);
    expect(cms).not.toContain(KEY);
    const logs = await kubectl(['-n', NS, 'logs', '-l', 'app.kubernetes.io/instance=docs', '--all-containers', '--tail=-1']);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(KEY);
  });

  it('serves the prompt and the ConfigMap resource', async () => {
    const p = await client.getPrompt({ name: 'review', arguments: { page: 'install' } });
    expect(p.messages[0]?.content).toEqual({ type: 'text', text: 'Review the page install for accuracy.' });
    expect((await client.readResource({ uri: 'docs://readme' })).contents[0]).toMatchObject({ text: '# Docs v1' });
  });

  it('the Python SDK client calls a declared tool', async () => {
    const py = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
    if (!existsSync(py)) return void console.warn('skipped: no .venv (created by .ci/run)');
    const script = fileURLToPath(new URL('../fixtures/py_client.py', import.meta.url));
    const url = await endpoint('mcp-docs');
    const out = JSON.parse(execFileSync(py, [script, 'streamable-http', url, 'search_docs', JSON.stringify({ query: 'python' })], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n').pop()!);
    expect(out.tools).toContain('search_docs');
    expect(out.text).toContain('python guide');
  });

  it('each object says which server serves it', async () => {
    const tool = await getJSON(['-n', NS, 'get', 'mcptool', 'search-docs']);
    expect(tool.status.servers).toEqual([expect.objectContaining({ kind: 'MCPServer', name: 'docs' })]);
    const cond = (type: string) => tool.status.conditions.find((c: { type: string }) => c.type === type)?.status;
    expect([cond('Valid'), cond('Served')]).toEqual(['True', 'True']);
  });

  it('an edited object reaches the open session: list_changed, the new tool, the same pod', async () => {
    const pods = async () => (await getJSON(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/instance=docs'])).items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => `${p.metadata.uid}/${p.status.containerStatuses.map((c: any) => c.restartCount).join(',')}`);
    const before = await pods();
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    const started = Date.now();
    await kubectl(['apply', '-f', '-'], {
      input: `apiVersion: ome.io/v1beta1
kind: MCPTool
metadata: { name: doc-page, namespace: ${NS}, labels: { catalog: docs } }
spec:
  name: doc_page
  inputSchema: { type: object, properties: { page: { type: string } } }
  target: { url: "http://docs-api.${NS}.svc:8080", path: "/doc/{page}", method: GET }
`,
    });
    await eventually('list_changed on the open session', async () => changed > 0, 90_000, 250);
    console.log(`declared tool added: list_changed after ${Date.now() - started} ms`);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('doc_page');
    expect(textOf(await client.callTool({ name: 'doc_page', arguments: { page: 'faq' } }))).toBe('# faq');
    expect(await pods()).toEqual(before);
  });

  it('a changed ConfigMap reaches a subscriber of the resource', async () => {
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    await client.subscribeResource({ uri: 'docs://readme' });
    await kubectl(['-n', NS, 'patch', 'configmap', 'docs-readme', '--type', 'merge', '-p', JSON.stringify({ data: { 'readme.md': '# Docs v2' } })]);
    await eventually('resources/updated for docs://readme', async () => updates.includes('docs://readme'), 90_000, 250);
    expect((await client.readResource({ uri: 'docs://readme' })).contents[0]).toMatchObject({ text: '# Docs v2' });
  });

  it('an invalid template is a status condition; the server keeps serving the rest', async () => {
    await kubectl(['apply', '-f', '-'], {
      input: `apiVersion: ome.io/v1beta1
kind: MCPPrompt
metadata: { name: broken, namespace: ${NS}, labels: { catalog: docs } }
spec:
  arguments: [{ name: page }]
  template: "Summarize {{pgae}}"
`,
    });
    const valid = await eventually('Valid=False on the broken prompt', async () => {
      const p = await getJSON(['-n', NS, 'get', 'mcpprompt', 'broken']);
      return p.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Valid' && c.status === 'False');
    }, 60_000);
    expect(valid.message).toContain('{{pgae}} is not a declared argument (page)');
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['review']);
    await waitReady('mcpserver', 'docs', NS, 10_000);
  });
});

describe('declared tools beside a real server', () => {
  it('server-everything and the catalog on one endpoint, one policy', async () => {
    await kubectl(['apply', '-f', '-'], {
      input: everythingServer('everything-docs', NS, `  toolSelector: { matchLabels: { catalog: docs } }
  authzConfig:
    type: inline
    inline:
      policies:
        - 'permit(principal, action == Action::"list_tools", resource);'
        - 'permit(principal, action == Action::"call_tool", resource) when { resource has readOnlyHint && resource.readOnlyHint };'
`),
    });
    await waitReady('mcpserver', 'everything-docs', NS);
    const client = await mcpClient(await endpoint('mcp-everything-docs'));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    // Cedar sees a declared tool's annotations as it sees the server's: the read-only one is listed
    // and called, the other is neither (a list shows what the caller may call).
    expect(tools).toEqual(expect.arrayContaining(['echo', 'search_docs']));
    expect(tools).not.toContain('check_key');
    expect((await client.callTool({ name: 'search_docs', arguments: { query: 'beside' } })).structuredContent).toMatchObject({ query: 'beside' });
    await expect(client.callTool({ name: 'check_key', arguments: {} })).rejects.toThrow(/denied|Forbidden/i);
    await client.close();
  });
});
