// Declarative tools, prompts and resources against a real control plane: a server's selectors
// pick MCPTool / MCPPrompt / MCPResource objects into its agent's catalog (agent.json in its
// ConfigMap), their Secret keys go to the server's catalog Secret only, each object's status
// tells whether it is valid and who serves it, and edits, label moves, name clashes and missing
// ConfigMaps are followed.
import type { V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentCatalog } from '../../api/agent-catalog.js';
import { AGENT_CONTAINER_NAME } from '../../api/annotations.js';
import type { CatalogItemStatus } from '../../api/v1beta1/catalog.js';
import type { MCPServerStatus } from '../../api/v1beta1/mcpserver.js';
import { collectionPath, KubeClient, objectPath } from '../../injector/reconciler/client.js';
import { secretFileKey } from '../../injector/reconciler/catalog/items.js';
import type { Reconciler } from '../../injector/reconciler/index.js';
import { ensureNamespace, eventually, installCRDs, kubeConfigFrom, randomSuffix, startTestReconciler, sleep } from './helpers.js';

type Kind = 'MCPTool' | 'MCPPrompt' | 'MCPResource';
type Item = { metadata: { name: string; generation?: number }; status?: CatalogItemStatus };

const ns = `cat-${randomSuffix()}`;
const systemNs = `ome-mcp-${randomSuffix()}`;
const SECRET_VALUE = 'tok-3b9f-never-in-a-configmap';
let client: KubeClient;
let reconciler: Reconciler;
const kwok = () => inject('k8s').nodes.length > 0;

const create = (kind: string, name: string, { metadata, ...body }: Record<string, unknown>) =>
  client.request('POST', collectionPath(kind, ns), { body: { apiVersion: kind.startsWith('MCP') ? 'ome.io/v1beta1' : 'v1', kind, metadata: { name, namespace: ns, ...((metadata as object) ?? {}) }, ...body } });
const declare = (kind: Kind, name: string, spec: Record<string, unknown>, labels: Record<string, string> = { catalog: 'desk' }) => create(kind, name, { metadata: { labels }, spec });
const patch = (kind: string, name: string, body: unknown) => client.mergePatch(kind, name, ns, body);
const getItem = (kind: Kind, name: string) => client.request<Item>('GET', objectPath(kind, name, ns));
const cond = (s: { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

async function agentJson(server: string): Promise<{ catalog?: AgentCatalog; catalogOnly?: boolean; upstream?: unknown }> {
  const cm = await client.get<V1ConfigMap & { kind: string }>('ConfigMap', `mcp-${server}-agent`, ns);
  return JSON.parse(cm.data!['agent.json']!);
}
const catalogOf = async (server: string) => (await agentJson(server)).catalog;

async function waitItem(kind: Kind, name: string, pred: (s: CatalogItemStatus, o: Item) => boolean, what: string): Promise<Item> {
  return eventually(`${kind} ${name}: ${what}`, async () => {
    const o = await getItem(kind, name);
    return o.status && pred(o.status, o) ? o : undefined;
  }, 30_000);
}

beforeAll(async () => {
  client = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
  await installCRDs(client);
  await ensureNamespace(client, ns);
  await ensureNamespace(client, systemNs);
  reconciler = await startTestReconciler(inject('kubeconfig'), systemNs, { secretPollMs: 1_000 });
});

afterAll(async () => {
  await reconciler?.stop();
  await client?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
  client?.close();
});

describe('a Catalog server', () => {
  it('serves the selected tool, prompt and resource: resolved in agent.json, the Secret value in the catalog Secret only', async () => {
    await create('Secret', 'tickets-api', { type: 'Opaque', stringData: { token: SECRET_VALUE } });
    await create('ConfigMap', 'runbook', { data: { 'escalation.md': '# Escalate\n' } });
    await declare('MCPTool', 'search', {
      inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
      target: { service: { name: 'tickets', port: 8080 }, path: '/search', method: 'GET', headers: [{ name: 'Authorization', prefix: 'Bearer ', secretKeyRef: { name: 'tickets-api', key: 'token' } }] },
    });
    await declare('MCPPrompt', 'summarize', { arguments: [{ name: 'ticket', required: true }], template: 'Summarize {{ticket}}' });
    await declare('MCPResource', 'escalation', { uri: 'runbook://escalation', mimeType: 'text/markdown', configMapKeyRef: { name: 'runbook', key: 'escalation.md' } });
    await declare('MCPTool', 'elsewhere', { target: { url: 'http://x.example' } }, { catalog: 'other' });
    await create('MCPServer', 'desk', { spec: { type: 'Catalog', toolSelector: { matchLabels: { catalog: 'desk' } } } });

    const config = await eventually('agent.json with the catalog', async () => {
      const c = await agentJson('desk').catch(() => undefined);
      return c?.catalog?.tools && c.catalog.prompts && c.catalog.resources ? c : undefined;
    });
    const file = secretFileKey('tickets-api', 'token');
    expect(config.catalogOnly).toBe(true);
    expect(config.upstream).toBeUndefined();
    expect(config.catalog).toEqual({
      tools: [
        {
          name: 'search',
          inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
          http: { url: `http://tickets.${ns}.svc.cluster.local:8080/search`, method: 'GET', retries: 0, response: 'auto', headers: [{ name: 'Authorization', prefix: 'Bearer ', file: `/etc/ome-mcp-catalog/${file}` }] },
          source: `${ns}/search`,
        },
      ],
      prompts: [{ name: 'summarize', arguments: [{ name: 'ticket', required: true }], messages: [{ role: 'user', text: 'Summarize {{ticket}}' }], source: `${ns}/summarize` }],
      resources: [{ uri: 'runbook://escalation', name: 'escalation', mimeType: 'text/markdown', text: '# Escalate\n', source: `${ns}/escalation` }],
    });
    const cm = await client.get<V1ConfigMap & { kind: string }>('ConfigMap', 'mcp-desk-agent', ns);
    expect(JSON.stringify(cm)).not.toContain(SECRET_VALUE);

    const secret = await client.get<V1Secret & { kind: string }>('Secret', 'mcp-desk-catalog', ns);
    expect(Buffer.from(secret.data![file]!, 'base64').toString()).toBe(SECRET_VALUE);
    expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'MCPServer', name: 'desk', controller: true });

    const dep = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-desk', ns);
    const pod = dep.spec!.template.spec!;
    expect(pod.containers.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(pod.initContainers ?? []).toEqual([]);
    expect(pod.containers[0]!.args).toContain('--catalog-only');
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'ome-mcp-catalog', mountPath: '/etc/ome-mcp-catalog', readOnly: true });
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'ome-mcp-catalog', secret: expect.objectContaining({ secretName: 'mcp-desk-catalog' }) }));

    for (const [kind, name] of [['MCPTool', 'search'], ['MCPPrompt', 'summarize'], ['MCPResource', 'escalation']] as const) {
      const o = await waitItem(kind, name, (s) => cond(s, 'Served')?.status === 'True', 'served');
      expect(cond(o.status, 'Valid')).toMatchObject({ status: 'True' });
      expect(o.status!.servers).toEqual([{ kind: 'MCPServer', namespace: ns, name: 'desk' }]);
      expect(o.status!.observedGeneration).toBe(o.metadata.generation);
      expect(JSON.stringify(o.status)).not.toContain(SECRET_VALUE);
    }
    await waitItem('MCPTool', 'elsewhere', (s) => cond(s, 'Served')?.reason === 'NoServer', 'NoServer');

    const status = await eventually('server status', async () => {
      const s = await client.request<{ status?: MCPServerStatus }>('GET', objectPath('MCPServer', 'desk', ns));
      return s.status && (!kwok() || s.status.phase === 'Running') ? s.status : undefined;
    }, 90_000);
    expect(cond(status as never, 'ConfigValid')).toMatchObject({ status: 'True' });
    if (kwok()) expect(cond(status as never, 'Ready')).toMatchObject({ status: 'True' });
  });

  it('an invalid template: Valid=False with the message, not served, the rest unharmed', async () => {
    await declare('MCPPrompt', 'broken', { arguments: [{ name: 'a' }], template: 'Hello {{b}}' });
    const o = await waitItem('MCPPrompt', 'broken', (s) => cond(s, 'Valid')?.status === 'False', 'invalid');
    expect(cond(o.status, 'Valid')).toMatchObject({ reason: 'InvalidSpec', message: 'spec.template: {{b}} is not a declared argument (a)' });
    expect(cond(o.status, 'Served')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(o.status!.servers).toEqual([]);
    const c = await catalogOf('desk');
    expect(c?.prompts?.map((p) => p.name)).toEqual(['summarize']);
    // Fixed: it is served.
    await patch('MCPPrompt', 'broken', { spec: { template: 'Hello {{a}}' } });
    await waitItem('MCPPrompt', 'broken', (s, obj) => cond(s, 'Served')?.status === 'True' && s.observedGeneration === obj.metadata.generation, 'served once fixed');
    await eventually('fixed prompt in the catalog', async () => (await catalogOf('desk'))?.prompts?.some((p) => p.name === 'broken' && p.messages[0]!.text === 'Hello {{a}}'));
  });

  it('follows edits: a spec change, a ConfigMap change, a rotated Secret value', async () => {
    await patch('MCPPrompt', 'summarize', { spec: { template: 'Summarize {{ticket}} briefly' } });
    await eventually('edited prompt', async () => (await catalogOf('desk'))?.prompts?.find((p) => p.name === 'summarize')?.messages[0]!.text === 'Summarize {{ticket}} briefly');
    await patch('ConfigMap', 'runbook', { data: { 'escalation.md': '# Escalate now\n' } });
    await eventually('edited resource text', async () => (await catalogOf('desk'))?.resources?.[0]?.text === '# Escalate now\n');
    // Secrets are not watched: the server re-reads its Secret keys every secretPollMs.
    await patch('Secret', 'tickets-api', { stringData: { token: `${SECRET_VALUE}-2` } });
    await eventually('rotated value in the catalog Secret', async () => {
      const s = await client.get<V1Secret & { kind: string }>('Secret', 'mcp-desk-catalog', ns);
      return Buffer.from(s.data![secretFileKey('tickets-api', 'token')]!, 'base64').toString() === `${SECRET_VALUE}-2`;
    }, 15_000);
  });

  it('a label moved off the selector: gone from the catalog, NoServer', async () => {
    await patch('MCPTool', 'search', { metadata: { labels: { catalog: 'other' } } });
    await eventually('tool gone', async () => !(await catalogOf('desk'))?.tools?.length);
    const o = await waitItem('MCPTool', 'search', (s) => cond(s, 'Served')?.reason === 'NoServer', 'NoServer');
    expect(o.status!.servers).toEqual([]);
    await patch('MCPTool', 'search', { metadata: { labels: { catalog: 'desk' } } });
    await waitItem('MCPTool', 'search', (s) => cond(s, 'Served')?.status === 'True', 'served again');
  });

  it('a name declared twice: the oldest object serves it, the other reports NameConflict', async () => {
    await declare('MCPTool', 'search-copy', { name: 'search', target: { url: 'http://copy.example' } });
    const o = await waitItem('MCPTool', 'search-copy', (s) => cond(s, 'Served')?.reason === 'NameConflict', 'NameConflict');
    expect(cond(o.status, 'Served')!.message).toContain(`serves ${ns}/search under the same name`);
    expect((await catalogOf('desk'))?.tools?.map((t) => t.source)).toEqual([`${ns}/search`]);
  });

  it('a missing ConfigMap: Valid=False MissingConfigMap; served once it exists', async () => {
    await declare('MCPResource', 'later', { uri: 'runbook://later', configMapKeyRef: { name: 'later-cm', key: 'k' } });
    const o = await waitItem('MCPResource', 'later', (s) => cond(s, 'Valid')?.status === 'False', 'invalid');
    expect(cond(o.status, 'Valid')).toMatchObject({ reason: 'MissingConfigMap', message: `spec.configMapKeyRef: ConfigMap ${ns}/later-cm not found` });
    await create('ConfigMap', 'later-cm', { data: { k: 'now here' } });
    await waitItem('MCPResource', 'later', (s) => cond(s, 'Served')?.status === 'True', 'served');
    await eventually('later resource in the catalog', async () => (await catalogOf('desk'))?.resources?.some((r) => r.uri === 'runbook://later' && r.text === 'now here'));
  });

  it('writes nothing more once converged (no status ping-pong between objects and servers)', async () => {
    await waitItem('MCPResource', 'later', (s) => cond(s, 'Served')?.status === 'True', 'settled');
    const settled = async () => {
      const a = reconciler.stats();
      await sleep(1_500);
      const b = reconciler.stats();
      return a.applies === b.applies && a.statusWrites === b.statusWrites && b.queued === 0 && b.busy === 0 ? b : undefined;
    };
    const before = await eventually('quiet', settled, 30_000, 0);
    await sleep(1_500);
    const after = reconciler.stats();
    expect(after.applies).toBe(before.applies);
    expect(after.statusWrites).toBe(before.statusWrites);
  });
});

describe('a Hosted server with a toolSelector', () => {
  it('serves the catalog beside its own server: the catalog Secret mounted into the agent only', async () => {
    await create('MCPServer', 'hosted', { spec: { image: 'example.com/mcp/fs:1', toolSelector: { matchLabels: { catalog: 'desk' } } } });
    const config = await eventually('hosted agent.json with the catalog', async () => {
      const c = await agentJson('hosted').catch(() => undefined);
      return c?.catalog?.tools?.length ? c : undefined;
    });
    expect(config.upstream).toMatchObject({ transport: 'stdio' });
    expect(config.catalogOnly).toBeUndefined();
    const pod = (await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-hosted', ns)).spec!.template.spec!;
    const all = [...(pod.initContainers ?? []), ...pod.containers];
    expect(all.find((c) => c.name === AGENT_CONTAINER_NAME)!.volumeMounts).toContainEqual({ name: 'ome-mcp-catalog', mountPath: '/etc/ome-mcp-catalog', readOnly: true });
    expect(all.find((c) => c.name === 'mcp')!.volumeMounts?.some((m) => m.name === 'ome-mcp-catalog')).toBeFalsy();
    // Both servers are listed on the object they share.
    const o = await waitItem('MCPTool', 'search', (s) => (s.servers ?? []).length === 2, 'two servers');
    expect(o.status!.servers!.map((s) => s.name).sort()).toEqual(['desk', 'hosted']);
  });

  it('a deleted object leaves every catalog that had it', async () => {
    await client.request('DELETE', objectPath('MCPPrompt', 'summarize', ns));
    await eventually('prompt gone from both', async () => {
      const [a, b] = await Promise.all([catalogOf('desk'), catalogOf('hosted')]);
      return ![...(a?.prompts ?? []), ...(b?.prompts ?? [])].some((p) => p.name === 'summarize');
    });
  });
});

describe('a ClusterMCPServer', () => {
  it('selects the objects of the operator namespace, listed without a namespace on their status', async () => {
    await client.request('POST', collectionPath('MCPPrompt', systemNs), {
      body: { apiVersion: 'ome.io/v1beta1', kind: 'MCPPrompt', metadata: { name: 'shared', namespace: systemNs, labels: { catalog: 'shared' } }, spec: { template: 'Hello' } },
    });
    await client.request('POST', collectionPath('ClusterMCPServer'), {
      body: { apiVersion: 'ome.io/v1beta1', kind: 'ClusterMCPServer', metadata: { name: `shared-${ns}` }, spec: { type: 'Catalog', promptSelector: { matchLabels: { catalog: 'shared' } } } },
    });
    try {
      const cm = await eventually('cluster agent.json', async () => {
        const c = await client.getOrUndefined<V1ConfigMap & { kind: string }>('ConfigMap', `cmcp-shared-${ns}-agent`, systemNs);
        return c && JSON.parse(c.data!['agent.json']!).catalog?.prompts ? c : undefined;
      });
      expect(JSON.parse(cm.data!['agent.json']!).catalog.prompts[0]).toMatchObject({ name: 'shared', source: `${systemNs}/shared` });
      const o = await eventually('shared prompt served', async () => {
        const x = await client.request<Item>('GET', objectPath('MCPPrompt', 'shared', systemNs));
        return cond(x.status, 'Served')?.status === 'True' ? x : undefined;
      });
      expect(o.status!.servers).toEqual([{ kind: 'ClusterMCPServer', name: `shared-${ns}` }]);
    } finally {
      await client.request('DELETE', objectPath('ClusterMCPServer', `shared-${ns}`));
    }
    // Its deletion takes it off the object's status.
    await eventually('shared prompt unserved', async () => {
      const x = await client.request<Item>('GET', objectPath('MCPPrompt', 'shared', systemNs));
      return cond(x.status, 'Served')?.reason === 'NoServer';
    });
  });
});
