// MCPGateway against a real control plane (kube-apiserver, and kwok for Ready pods when there):
// an MCPGateway selecting two MCPServers gets a ConfigMap whose agent.json lists their Service
// URLs as backends, an agent-only Deployment in backends mode and a Service; its status lists each
// backend with the readiness of its MCPServer; a server relabelled out of the selector leaves the
// config, and a named one that does not exist is reported, not crashed on.
import type { V1ConfigMap, V1Deployment, V1Ingress, V1Service } from '@kubernetes/client-node';
import type { HTTPRouteObject } from '../../api/gateway-api.js';
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

describe('MCPGateway exposure: an Ingress or an HTTPRoute with a TLS host', () => {
  const gwBody = (extra: object) => ({ spec: { backends: [{ name: 'ext', url: 'https://ext.example.com/mcp' }], ...extra } });
  const cond = async (type: string) => (await statusOf('pub'))?.conditions?.find((c) => c.type === type);
  const ROUTES = '/apis/gateway.networking.k8s.io/v1';

  it('an Ingress with TLS: created and owned, url https, Exposed from its load-balancer status, pruned when the field goes', async () => {
    await create('MCPGateway', 'pub', gwBody({ ingress: { host: 'mcp.example.com', className: 'nginx', tls: { secretName: 'mcp-tls' }, annotations: { 'example.com/x': 'y' } } }));
    const ing = await eventually('the Ingress', () => client.request<V1Ingress>('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/mcpgw-pub`).catch(() => undefined), 30_000);
    expect(ing.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'MCPGateway', name: 'pub', controller: true });
    expect(ing.metadata?.annotations?.['example.com/x']).toBe('y');
    expect(ing.spec).toMatchObject({ ingressClassName: 'nginx', tls: [{ hosts: ['mcp.example.com'], secretName: 'mcp-tls' }] });
    expect(ing.spec!.rules![0]!.http!.paths[0]).toEqual({ path: '/', pathType: 'Prefix', backend: { service: { name: 'mcpgw-pub', port: { number: 8080 } } } });
    const noAddress = await eventually('Exposed False', async () => ((await cond('Exposed'))?.reason === 'NoAddress' ? cond('Exposed') : undefined), 30_000);
    expect(noAddress).toMatchObject({ status: 'False', message: 'Ingress mcpgw-pub has no load-balancer address yet: no ingress controller of class nginx has admitted it' });
    expect((await statusOf('pub'))!.url).toBe('https://mcp.example.com/mcp');

    // What an ingress controller would write: the status follows it.
    await client.mergePatch('Ingress', 'mcpgw-pub', ns, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } }, 'status');
    const up = await eventually('Exposed True', async () => ((await cond('Exposed'))?.status === 'True' ? cond('Exposed') : undefined), 30_000);
    expect(up).toMatchObject({ reason: 'AddressAssigned', message: 'Ingress mcpgw-pub at 192.0.2.7 (TLS from Secret mcp-tls)' });

    await client.request('PUT', objectPath('MCPGateway', 'pub', ns), {
      body: { ...(await client.request<object>('GET', objectPath('MCPGateway', 'pub', ns))), ...gwBody({}) },
    });
    await eventually('the Ingress pruned', async () => ((await client.getOrUndefined('Ingress', 'mcpgw-pub', ns)) ? undefined : true), 30_000);
    const s = await eventually('no Exposed, the Service url', async () => {
      const st = await statusOf('pub');
      return st?.conditions?.some((c) => c.type === 'Exposed') ? undefined : st;
    }, 30_000);
    expect(s.url).toBe(`http://mcpgw-pub.${ns}.svc.cluster.local:8080/mcp`);
  });

  it('an HTTPRoute: created and owned, Exposed from its parents’ Accepted/ResolvedRefs, https from the HTTPS listener', async () => {
    await client.request('POST', `${ROUTES}/namespaces/${ns}/gateways`, {
      body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: ns }, spec: { gatewayClassName: 'none', listeners: [{ name: 'https', protocol: 'HTTPS', port: 443, hostname: 'mcp.example.com', tls: { certificateRefs: [{ name: 'mcp-tls' }] } }] } },
    });
    await client.mergePatch('MCPGateway', 'pub', ns, { spec: { httpRoute: { parentRefs: [{ name: 'edge', sectionName: 'https' }], hostnames: ['mcp.example.com'] } } });
    const route = await eventually('the HTTPRoute', () => client.request<HTTPRouteObject>('GET', `${ROUTES}/namespaces/${ns}/httproutes/mcpgw-pub`).catch(() => undefined), 30_000);
    expect(route.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'MCPGateway', name: 'pub' });
    expect(route.spec.rules[0]!.backendRefs[0]).toMatchObject({ name: 'mcpgw-pub', port: 8080 });
    const pending = await eventually('Exposed Pending', async () => ((await cond('Exposed'))?.reason === 'Pending' ? cond('Exposed') : undefined), 30_000);
    expect(pending!.message).toContain('no Gateway controller has reported on it yet');

    // What a Gateway controller would write.
    const parent = (accepted: 'True' | 'False') => ({
      status: {
        parents: [
          {
            parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', sectionName: 'https' },
            controllerName: 'example.com/gateway-controller',
            conditions: [
              { type: 'Accepted', status: accepted, reason: accepted === 'True' ? 'Accepted' : 'NotAllowedByListeners', message: accepted === 'True' ? 'ok' : 'not allowed', lastTransitionTime: '2026-12-01T00:00:00Z', observedGeneration: 1 },
              { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'ok', lastTransitionTime: '2026-12-01T00:00:00Z', observedGeneration: 1 },
            ],
          },
        ],
      },
    });
    await client.request('PATCH', `${ROUTES}/namespaces/${ns}/httproutes/mcpgw-pub/status`, { body: parent('False'), contentType: 'application/merge-patch+json' });
    const refused = await eventually('Exposed NotAccepted', async () => ((await cond('Exposed'))?.reason === 'NotAccepted' ? cond('Exposed') : undefined), 30_000);
    expect(refused!.message).toBe(`HTTPRoute mcpgw-pub: Gateway ${ns}/edge:https: Accepted=False (NotAllowedByListeners: not allowed)`);
    await client.request('PATCH', `${ROUTES}/namespaces/${ns}/httproutes/mcpgw-pub/status`, { body: parent('True'), contentType: 'application/merge-patch+json' });
    const ok = await eventually('Exposed True', async () => ((await cond('Exposed'))?.status === 'True' ? cond('Exposed') : undefined), 30_000);
    expect(ok).toMatchObject({ reason: 'Accepted', message: `HTTPRoute mcpgw-pub accepted by Gateway ${ns}/edge:https` });
    expect((await statusOf('pub'))!.url).toBe('https://mcp.example.com/mcp');
  });

  it('without the HTTPRoute API (its CRD removed) Exposed says so; the rest still runs', async () => {
    const crd = 'httproutes.gateway.networking.k8s.io';
    const crdPath = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`;
    await client.request('DELETE', crdPath);
    try {
      const c = await eventually('HTTPRouteAPIMissing', async () => ((await cond('Exposed'))?.reason === 'HTTPRouteAPIMissing' ? cond('Exposed') : undefined), 60_000, 500);
      expect(c).toMatchObject({ status: 'False', message: expect.stringContaining('the HTTPRoute API (gateway.networking.k8s.io/v1) is not served in this cluster') });
      expect((await cond('ConfigValid'))?.status).toBe('True');
      expect((await backendsOf('pub'))?.map((b) => b.name)).toEqual(['ext']);
    } finally {
      await eventually('CRD deleted', () => client.request('GET', crdPath).then(() => false, (e: unknown) => isNotFound(e)), 30_000).catch(() => {});
      await applyCRDs(client, [gatewayAPIFile(crd)]);
    }
    // Served again: the route is made again (its status empty: Pending).
    await eventually('the HTTPRoute again', async () => ((await cond('Exposed'))?.reason === 'Pending' ? true : undefined), 90_000, 500);
  }, 180_000);
});

describe("the caller's identity through an MCPGateway", () => {
  it('per-session with identity: the agent config carries both, each backend its audience, the exchange secret mounted into the agent', async () => {
    await client.request('POST', '/api/v1/namespaces/' + ns + '/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gw-exchange', namespace: ns }, stringData: { secret: 's3cret' } } });
    await create('MCPGateway', 'as-caller', {
      spec: {
        backends: [
          { name: 'k8s', url: 'https://k8s-mcp.example.com/mcp', audience: 'https://kubernetes.example/api' },
          { name: 'notes', url: 'https://notes.example.com/mcp' },
        ],
        oidcConfig: { type: 'inline', inline: { issuer: 'https://idp.example.com', audience: 'https://gw.example.com' } },
        session: { mode: 'per-session' },
        identity: { mode: 'exchange', exchange: { clientId: 'ome-mcp', audience: 'https://tools.example', clientSecretRef: { name: 'gw-exchange', key: 'secret' } } },
      },
    });
    const config = await eventually('agent.json', async () => {
      const cm = await client.getOrUndefined<V1ConfigMap & { kind: string }>('ConfigMap', 'mcpgw-as-caller-agent', ns);
      return cm ? JSON.parse(cm.data!['agent.json']!) : undefined;
    }, 30_000);
    expect(config).toMatchObject({ sessionMode: 'per-session', identity: { mode: 'exchange', exchange: { clientId: 'ome-mcp', audience: 'https://tools.example' } } });
    expect(config.identity.exchange.clientSecretFile).toBeTruthy();
    expect(config.backends.map((b: AgentBackend) => [b.name, b.audience])).toEqual([['k8s', 'https://kubernetes.example/api'], ['notes', undefined]]);
    const deployment = await eventually('the Deployment', () => client.getOrUndefined<V1Deployment & { kind: string }>('Deployment', 'mcpgw-as-caller', ns), 30_000);
    const volumes = JSON.stringify(deployment.spec!.template.spec!.volumes);
    expect(volumes).toContain('gw-exchange');
    expect(cond(await statusOf('as-caller'), 'ConfigValid')?.status).not.toBe('False');
  });
});
