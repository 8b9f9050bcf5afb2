// MCPGateway against a real control plane (kube-apiserver, and kwok for Ready pods when there):
// an MCPGateway selecting two MCPServers gets a ConfigMap whose agent.json lists their Service
// URLs as backends, an agent-only Deployment in backends mode and a Service; its status lists each
// backend with the readiness of its MCPServer; a server relabelled out of the selector leaves the
// config, and a named one that does not exist is reported, not crashed on.
import type { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentBackend } from '../../api/agent-backends.js';
import { AGENT_CONTAINER_NAME } from '../../api/annotations.js';
import type { MCPGatewayStatus } from '../../api/v1beta1/mcpgateway.js';
import { collectionPath, isNotFound, KubeClient, objectPath } from '../../injector/reconciler/client.js';
import type { Reconciler } from '../../injector/reconciler/index.js';
import { applyCRDs, ensureNamespace, eventually, gatewayAPIFile, installCRDs, kubeConfigFrom, randomSuffix, startTestReconciler } from './helpers.js';

const ns = `gw-${randomSuffix()}`;
const otherNs = `gw-shared-${randomSuffix()}`;
const clusterServer = `gw-c-${randomSuffix()}`;
const systemNs = `ome-mcp-${randomSuffix()}`;
let client: KubeClient;
let reconciler: Reconciler;
const kwok = () => inject('k8s').nodes.length > 0;

const create = (kind: string, name: string, body: Record<string, unknown>, labels: Record<string, string> = {}) =>
  client.request('POST', collectionPath(kind, ns), { body: { apiVersion: 'ome.io/v1beta1', kind, metadata: { name, namespace: ns, labels }, ...body } });
const remote = (url: string) => ({ spec: { type: 'Remote', url } });
const svcURL = (server: string) => `http://mcp-${server}.${ns}.svc.cluster.local:8080/mcp`;

async function backendsOf(gw = 'front'): Promise<AgentBackend[] | undefined> {
  const cm = await client.getOrUndefined<V1ConfigMap & { kind: string }>('ConfigMap', `mcpgw-${gw}-agent`, ns);
  return cm ? JSON.parse(cm.data!['agent.json']!).backends : undefined;
}
const statusOf = async (gw = 'front') => (await client.request<{ status?: MCPGatewayStatus; metadata: { generation: number } }>('GET', objectPath('MCPGateway', gw, ns))).status;
const backendStatus = async (gw: string, name: string) => (await statusOf(gw))?.backends?.find((b) => b.name === name);
const GRANTS = '/apis/gateway.networking.k8s.io/v1beta1';
const cond = (s: MCPGatewayStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  client = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
  await installCRDs(client);
  await ensureNamespace(client, ns);
  await ensureNamespace(client, systemNs);
  await ensureNamespace(client, otherNs);
  reconciler = await startTestReconciler(inject('kubeconfig'), systemNs);
});

afterAll(async () => {
  // The ClusterMCPServer's finalizer is the reconciler's to remove: delete it while it runs.
  await client?.delete('ClusterMCPServer', clusterServer);
  await eventually('ClusterMCPServer gone', async () => !(await client.getOrUndefined('ClusterMCPServer', clusterServer)), 30_000).catch(() => {});
  await reconciler?.stop();
  await client?.request('DELETE', `/api/v1/namespaces/${otherNs}`).catch(() => {});
  await client?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
  client?.close();
});

describe('the Gateway API in the test cluster (test/k8s/gateway-api.sh)', () => {
  it('serves GatewayClass, Gateway, HTTPRoute (v1) and ReferenceGrant (v1beta1)', async () => {
    for (const path of ['/apis/gateway.networking.k8s.io/v1/gatewayclasses', '/apis/gateway.networking.k8s.io/v1/gateways', '/apis/gateway.networking.k8s.io/v1/httproutes', '/apis/gateway.networking.k8s.io/v1beta1/referencegrants']) {
      expect(await client.request<{ kind: string }>('GET', path, { query: { limit: 1 } })).toMatchObject({ kind: expect.stringMatching(/List$/) });
    }
  });
});

describe('MCPGateway', () => {
  it('selects two MCPServers: their Service URLs as backends, an agent-only Deployment, a Service, status per backend', async () => {
    await create('MCPServer', 'alpha', remote('https://alpha.example.com/mcp'), { gateway: 'front' });
    await create('MCPServer', 'beta', remote('https://beta.example.com/mcp'), { gateway: 'front' });
    await create('MCPServer', 'gamma', remote('https://gamma.example.com/mcp'), { gateway: 'other' });
    await create('MCPGateway', 'front', {
      spec: {
        serverSelector: { matchLabels: { gateway: 'front' } },
        backends: [{ serverRef: { name: 'beta' }, name: 'b', toolsFilter: ['echo'] }],
        aggregate: { separator: '__' },
      },
    });

    const backends = await eventually('agent.json with two backends', async () => ((await backendsOf())?.length === 2 ? backendsOf() : undefined), 30_000);
    expect(backends).toEqual([
      { name: 'b', url: svcURL('beta'), transport: 'streamable-http', toolsFilter: ['echo'] },
      { name: 'alpha', url: svcURL('alpha'), transport: 'streamable-http' },
    ]);
    const cm = await client.get<V1ConfigMap & { kind: string }>('ConfigMap', 'mcpgw-front-agent', ns);
    expect(JSON.parse(cm.data!['agent.json']!)).toMatchObject({ aggregate: { separator: '__' }, resourceURL: `http://mcpgw-front.${ns}.svc.cluster.local:8080/mcp` });
    expect(cm.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'MCPGateway', name: 'front', controller: true });

    const dep = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcpgw-front', ns);
    const pod = dep.spec!.template;
    expect(pod.metadata?.annotations?.['mcp.ome.io/backends']).toBe('true');
    expect(pod.spec!.containers.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(pod.spec!.initContainers ?? []).toEqual([]);
    expect(pod.spec!.containers[0]!.args!.filter((a) => a.startsWith('--upstream') || a === '--catalog-only')).toEqual([]);
    const svc = await client.get<V1Service & { kind: string }>('Service', 'mcpgw-front', ns);
    expect(svc.spec?.selector).toEqual(dep.spec?.selector?.matchLabels);

    const status = await eventually('status with both backends', async () => {
      const s = await statusOf();
      return s?.backends?.length === 2 && (!kwok() || (s.backends.every((b) => b.ready) && cond(s, 'Ready')?.status === 'True')) ? s : undefined;
    }, 60_000);
    expect(status.backends!.map((b) => [b.name, b.server, b.url])).toEqual([
      ['b', 'beta', svcURL('beta')],
      ['alpha', 'alpha', svcURL('alpha')],
    ]);
    expect(status.url).toBe(`http://mcpgw-front.${ns}.svc.cluster.local:8080/mcp`);
    expect(cond(status, 'ConfigValid')?.status).toBe('True');
    if (kwok()) expect(cond(status, 'BackendsReady')).toMatchObject({ status: 'True', message: '2/2 ready' });
    else expect(cond(status, 'BackendsReady')?.status).toBe('False');
  });

  it('a server relabelled out of the selector leaves the config and the status', async () => {
    await client.mergePatch('MCPServer', 'alpha', ns, { metadata: { labels: { gateway: null } } });
    await eventually('alpha gone from agent.json', async () => {
      const b = await backendsOf();
      return b?.length === 1 && b[0]!.name === 'b' ? b : undefined;
    }, 30_000);
    const s = await eventually('alpha gone from status', async () => {
      const st = await statusOf();
      return st?.backends?.length === 1 ? st : undefined;
    }, 30_000);
    expect(s.backends![0]).toMatchObject({ name: 'b', server: 'beta' });
  });

  it('a named MCPServer that does not exist is a backend not ready; the config keeps the others', async () => {
    await client.mergePatch('MCPGateway', 'front', ns, { spec: { backends: [{ serverRef: { name: 'beta' }, name: 'b' }, { serverRef: { name: 'missing' } }] } });
    const s = await eventually('missing reported', async () => {
      const st = await statusOf();
      return st?.backends?.some((b) => b.name === 'missing') ? st : undefined;
    }, 30_000);
    expect(s.backends!.find((b) => b.name === 'missing')).toEqual({ name: 'missing', server: 'missing', ready: false, reason: 'NotFound', message: `MCPServer ${ns}/missing not found` });
    expect(cond(s, 'BackendsReady')).toMatchObject({ status: 'False', reason: 'BackendNotReady' });
    expect(cond(s, 'BackendsReady')!.message).toContain(`missing: MCPServer ${ns}/missing not found`);
    expect((await backendsOf())!.map((b) => b.name)).toEqual(['b']);

    // It appears: it becomes a backend.
    await create('MCPServer', 'missing', remote('https://m.example.com/mcp'));
    await eventually('missing now a backend', async () => ((await backendsOf())?.some((b) => b.name === 'missing') ? true : undefined), 30_000);
  });
});

describe('MCPGateway backends across namespaces and ClusterMCPServers', () => {
  const grantPath = `${GRANTS}/namespaces/${otherNs}/referencegrants`;
  const grant = { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'gateways-of-gw', namespace: otherNs }, spec: { from: [{ group: 'ome.io', kind: 'MCPGateway', namespace: ns }], to: [{ group: 'ome.io', kind: 'MCPServer', name: 'shared' }] } };
  const sharedURL = () => `http://mcp-shared.${otherNs}.svc.cluster.local:8080/mcp`;
  const names = async () => (await backendsOf('cross'))?.map((b) => b.name);

  it('a ClusterMCPServer is a backend without a grant; an MCPServer of another namespace only with one', async () => {
    await client.request('POST', collectionPath('MCPServer', otherNs), { body: { apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name: 'shared', namespace: otherNs }, ...remote('https://shared.example.com/mcp') } });
    await client.request('POST', collectionPath('ClusterMCPServer'), { body: { apiVersion: 'ome.io/v1beta1', kind: 'ClusterMCPServer', metadata: { name: clusterServer }, ...remote('https://c.example.com/mcp') } });
    await create('MCPGateway', 'cross', { spec: { backends: [{ serverRef: { name: 'shared', namespace: otherNs } }, { serverRef: { kind: 'ClusterMCPServer', name: clusterServer }, name: 'everywhere' }] } });

    const b = await eventually('the ClusterMCPServer in agent.json', async () => ((await names())?.includes('everywhere') ? backendsOf('cross') : undefined), 30_000);
    expect(b).toEqual([{ name: 'everywhere', url: `http://cmcp-${clusterServer}.${systemNs}.svc.cluster.local:8080/mcp`, transport: 'streamable-http' }]);
    const denied = await eventually('shared refused', async () => {
      const st = await backendStatus('cross', 'shared');
      return st?.reason === 'RefNotPermitted' ? st : undefined;
    }, 30_000);
    expect(denied).toEqual({
      name: 'shared',
      server: 'shared',
      namespace: otherNs,
      ready: false,
      reason: 'RefNotPermitted',
      message: `no ReferenceGrant in namespace ${otherNs} allows from {group: ome.io, kind: MCPGateway, namespace: ${ns}} to {group: ome.io, kind: MCPServer, name: shared}`,
    });
    expect(await backendStatus('cross', 'everywhere')).toMatchObject({ server: clusterServer, kind: 'ClusterMCPServer', url: b[0]!.url });

    // The grant is added: the MCPServer becomes a backend; removed: it leaves again.
    await client.request('POST', grantPath, { body: grant });
    await eventually('shared permitted', async () => ((await names())?.includes('shared') ? true : undefined), 30_000);
    expect((await backendsOf('cross'))!.find((x) => x.name === 'shared')!.url).toBe(sharedURL());
    expect(await backendStatus('cross', 'shared')).toMatchObject({ namespace: otherNs, url: sharedURL() });
    expect((await backendStatus('cross', 'shared'))?.reason).not.toBe('RefNotPermitted');
    await client.request('DELETE', `${grantPath}/gateways-of-gw`);
    await eventually('shared refused again', async () => ((await names())?.includes('shared') === false && (await backendStatus('cross', 'shared'))?.reason === 'RefNotPermitted' ? true : undefined), 30_000);
  });

  it('without the ReferenceGrant API (its CRD removed) the status says so; nothing crashes, and it comes back', async () => {
    const crd = 'referencegrants.gateway.networking.k8s.io';
    await client.request('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    try {
      const st = await eventually('not served, in the status', async () => {
        const b = await backendStatus('cross', 'shared');
        return b?.message?.includes('is not served') ? b : undefined;
      }, 60_000, 500);
      expect(st).toMatchObject({ reason: 'RefNotPermitted', message: expect.stringContaining('the ReferenceGrant API (gateway.networking.k8s.io/v1beta1) is not served in this cluster') });
      expect(await names()).toEqual(['everywhere']);
    } finally {
      const crdPath = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`;
      await eventually('CRD deleted', () => client.request('GET', crdPath).then(() => false, (e: unknown) => isNotFound(e)), 30_000).catch(() => {});
      await applyCRDs(client, [gatewayAPIFile(crd)]);
    }
    // Served again (the reconciler looks again by itself), still no grant.
    await eventually('refused by the grants again', async () => ((await backendStatus('cross', 'shared'))?.message?.startsWith('no ReferenceGrant') ? true : undefined), 90_000, 500);
  }, 180_000);
});
