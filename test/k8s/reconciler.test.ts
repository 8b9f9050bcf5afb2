// The reconciler against a real control plane (kube-apiserver, etcd, kube-controller-manager,
// scheduler and kwok for Ready pods): objects, status transitions, configuration faults and
// their recovery, ClusterMCPServer cleanup, leader election and an API server restart.
import { makeInformer, type KubernetesObject, type V1ConfigMap, type V1Deployment, type V1NetworkPolicy, type V1Service, type V1ServiceAccount } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AGENT_CONTAINER_NAME, FINALIZER_CLUSTER_CLEANUP, MCP_CONTAINER_NAME } from '../../api/annotations.js';
import type { MCPServerStatus } from '../../api/v1beta1/mcpserver.js';
import { KubeClient } from '../../injector/reconciler/client.js';
import { startReconciler, type Reconciler } from '../../injector/reconciler/index.js';
import { restartSharedApiServer } from './cluster.js';
import { ensureNamespace, eventually, installCRDs, kubeConfigFrom, randomSuffix, sleep } from './helpers.js';

type Server = { metadata: { name: string; generation?: number; finalizers?: string[]; namespace?: string }; spec: Record<string, unknown>; status?: MCPServerStatus };

const ns = `rec-${randomSuffix()}`;
const systemNs = `ome-mcp-${randomSuffix()}`;
const AGENT_IMAGE = 'example.com/ome-mcp-agent:test';
let client: KubeClient;
let reconciler: Reconciler;
const kwok = () => inject('k8s').nodes.length > 0;
const log = pino({ level: process.env.OME_MCP_TEST_LOG ?? 'silent' });

function start(extra: Partial<Parameters<typeof startReconciler>[0]> = {}) {
  return startReconciler({
    kubeConfig: kubeConfigFrom(inject('kubeconfig')),
    namespace: systemNs,
    // This file's objects only: other files' servers (a namespace still being torn down, say)
    // would be reconciled here too, and counted in stats().
    watchNamespace: ns,
    agentImage: AGENT_IMAGE,
    // kwok pods' IPs are only data: an MCPGateway's agent is never asked.
    agentProbe: false,
    featureGates: 'MCPServerSupport=true',
    workers: 4,
    backoff: { baseDelayMs: 200, maxDelayMs: 2_000 },
    leaderElection: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
    logger: log,
    ...extra,
  });
}

const mcpPath = (name: string, namespace = ns) => `/apis/ome.io/v1beta1/namespaces/${namespace}/mcpservers/${name}`;
const cmcpPath = (name: string) => `/apis/ome.io/v1beta1/clustermcpservers/${name}`;

async function createServer(name: string, spec: Record<string, unknown>): Promise<Server> {
  return client.request<Server>('POST', `/apis/ome.io/v1beta1/namespaces/${ns}/mcpservers`, {
    body: { apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name, namespace: ns }, spec },
  });
}
const getServer = (name: string) => client.request<Server>('GET', mcpPath(name));
const patchSpec = (name: string, spec: Record<string, unknown>) => client.mergePatch<Server>('MCPServer', name, ns, { spec });

async function waitStatus(name: string, pred: (s: MCPServerStatus, srv: Server) => boolean, what: string, timeoutMs = 60_000): Promise<Server> {
  return eventually(`${name}: ${what}`, async () => {
    const s = await getServer(name);
    return s.status && pred(s.status, s) ? s : undefined;
  }, timeoutMs);
}
const cond = (s: MCPServerStatus, type: string) => s.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  client = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
  await installCRDs(client);
  await ensureNamespace(client, ns);
  await ensureNamespace(client, systemNs);
  reconciler = await start();
  expect(reconciler.enabled).toBe(true);
  await eventually('leadership', () => reconciler.isLeader(), 20_000);
});

afterAll(async () => {
  await reconciler?.stop();
  client?.close();
});

describe('MCPServer', () => {
  it('creates ServiceAccount, ConfigMap, Deployment, Service and NetworkPolicy, then reports Running', async () => {
    const phases = new Set<string>();
    // every status write, through a watch (a poll could miss a short phase)
    const kc = kubeConfigFrom(inject('kubeconfig'));
    const path = `/apis/ome.io/v1beta1/namespaces/${ns}/mcpservers`;
    const watcher = makeInformer<Server & KubernetesObject>(kc, path, () => client.request('GET', path));
    const note = (o: Server) => {
      if (o.metadata.name === 'basic' && o.status?.phase) phases.add(o.status.phase);
    };
    watcher.on('add', note);
    watcher.on('update', note);
    await watcher.start();
    await createServer('basic', { image: 'example.com/mcp/fs:1', args: ['--root', '/data'], env: [{ name: 'A', value: '1' }] });
    const base = 'mcp-basic';
    const [sa, cm, dep, svc, np] = await eventually('owned objects', async () => {
      const s = await getServer('basic').catch(() => undefined);
      if (s?.status?.phase) phases.add(s.status.phase);
      return Promise.all([
        client.get<V1ServiceAccount & { kind: string }>('ServiceAccount', base, ns),
        client.get<V1ConfigMap & { kind: string }>('ConfigMap', `${base}-agent`, ns),
        client.get<V1Deployment & { kind: string }>('Deployment', base, ns),
        client.get<V1Service & { kind: string }>('Service', base, ns),
        client.get<V1NetworkPolicy & { kind: string }>('NetworkPolicy', base, ns),
      ]);
    });
    expect(sa.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'MCPServer', name: 'basic', controller: true });
    expect(JSON.parse(cm.data!['agent.json']!)).toMatchObject({ name: 'basic', namespace: ns, upstream: { transport: 'stdio' } });
    const pod = dep.spec!.template.spec!;
    const server = pod.containers.find((c) => c.name === MCP_CONTAINER_NAME)!;
    expect(server).toMatchObject({ image: 'example.com/mcp/fs:1', args: ['--root', '/data'], env: [{ name: 'A', value: '1' }] });
    expect(server.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect([...(pod.initContainers ?? []), ...pod.containers].some((c) => c.name === AGENT_CONTAINER_NAME && c.image === AGENT_IMAGE)).toBe(true);
    expect(svc.spec?.ports?.[0]).toMatchObject({ port: 8080, targetPort: 8080 });
    expect(np.spec?.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 9090 }] }]);

    const want = kwok() ? 'Running' : 'Starting';
    const done = await eventually(`phase ${want}`, async () => {
      const s = await getServer('basic');
      if (s.status?.phase) phases.add(s.status.phase);
      return s.status?.phase === want ? s : undefined;
    }, 90_000, 100);
    expect(done.status).toMatchObject({ url: `http://mcp-basic.${ns}.svc.cluster.local:8080/mcp`, observedGeneration: done.metadata.generation });
    expect(cond(done.status!, 'ConfigValid')).toMatchObject({ status: 'True' });
    if (kwok()) {
      expect(cond(done.status!, 'Ready')).toMatchObject({ status: 'True' });
      expect(cond(done.status!, 'DeploymentAvailable')).toMatchObject({ status: 'True' });
      expect(done.status).toMatchObject({ replicas: 1, readyReplicas: 1 });
    }
    await watcher.stop();
    // it went through an earlier phase on the way
    expect([...phases].some((p) => p === 'Pending' || p === 'Starting'), [...phases].join()).toBe(true);
  });

  it('follows spec changes (observedGeneration, replicas, Deployment updated)', async () => {
    const before = await getServer('basic');
    await patchSpec('basic', { replicas: 2, args: ['--root', '/other'] });
    const s = await waitStatus('basic', (st, srv) => st.observedGeneration === srv.metadata.generation && srv.metadata.generation! > before.metadata.generation!, 'new generation observed');
    expect(s.metadata.generation).toBeGreaterThan(before.metadata.generation!);
    const dep = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns);
    expect(dep.spec?.replicas).toBe(2);
    expect(dep.spec?.template.spec?.containers.find((c) => c.name === 'mcp')?.args).toEqual(['--root', '/other']);
    if (kwok()) await waitStatus('basic', (st) => st.phase === 'Running' && st.readyReplicas === 2, 'Running with 2 ready');
  });

  it('scales through the scale subresource (what an HPA uses), with the pods\' selector; a PDB and a surge-only rollout', async () => {
    const scalePath = `${mcpPath('basic')}/scale`;
    type Scale = { spec: { replicas: number }; status: { replicas?: number; selector?: string } };
    await client.request('PATCH', scalePath, { body: { spec: { replicas: 3 } }, contentType: 'application/merge-patch+json' });
    await eventually('Deployment scaled to 3', async () => (await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns)).spec?.replicas === 3);
    const scale = await eventually('scale status with a selector', async () => {
      const sc = await client.request<Scale>('GET', scalePath);
      return sc.status.selector ? sc : undefined;
    });
    expect(scale.spec.replicas).toBe(3);
    const dep = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns);
    const labels = dep.spec!.selector!.matchLabels!;
    expect(scale.status.selector!.split(',').sort()).toEqual(Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort());
    expect(dep.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const pdb = await client.get<{ kind: string; spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', 'mcp-basic', ns);
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: labels } });
    await client.request('PATCH', scalePath, { body: { spec: { replicas: 2 } }, contentType: 'application/merge-patch+json' });
    await eventually('Deployment back to 2', async () => (await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns)).spec?.replicas === 2);
  });

  it('removes a field dropped from the spec (created objects become apply-owned)', async () => {
    await patchSpec('basic', { args: null, env: null });
    const dep = await eventually('args and env gone', async () => {
      const d = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns);
      const c = d.spec?.template.spec?.containers.find((x) => x.name === 'mcp');
      return c && c.args === undefined && c.env === undefined ? d : undefined;
    });
    const mine = (dep.metadata?.managedFields ?? []).filter((m) => m.manager === 'ome-mcp' && !m.subresource);
    expect(mine.map((m) => m.operation)).toEqual(['Apply']);
  });

  it('does not rewrite anything once converged (idempotent)', async () => {
    await waitStatus('basic', (st, srv) => st.observedGeneration === srv.metadata.generation && st.phase === (kwok() ? 'Running' : 'Starting'), 'settled');
    await sleep(500);
    const before = reconciler.stats();
    const gen = (await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns)).metadata?.generation;
    const srv = await getServer('basic');
    await sleep(1500);
    const after = reconciler.stats();
    expect(after.applies).toBe(before.applies);
    expect(after.statusWrites).toBe(before.statusWrites);
    expect((await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns)).metadata?.generation).toBe(gen);
    expect((await getServer('basic')).metadata).toMatchObject({ generation: srv.metadata.generation });
  });

  it('uses a named ServiceAccount instead of creating one, and prunes its own', async () => {
    await client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mine', namespace: ns } });
    await patchSpec('basic', { serviceAccount: 'mine' });
    await eventually('own SA pruned', async () => (await client.getOrUndefined('ServiceAccount', 'mcp-basic', ns)) === undefined);
    const dep = await eventually('Deployment uses SA mine', async () => {
      const d = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns);
      return d.spec?.template.spec?.serviceAccountName === 'mine' ? d : undefined;
    });
    expect(dep).toBeDefined();
  });

  it('Remote: an agent-only Deployment whose upstream is the URL', async () => {
    await createServer('remote', { type: 'Remote', url: 'https://mcp.crm.example.com/mcp', transport: 'streamable-http' });
    const dep = await eventually('remote Deployment', () => client.getOrUndefined<V1Deployment & { kind: string }>('Deployment', 'mcp-remote', ns));
    const containers = dep.spec!.template.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(containers[0]!.args).toContain('https://mcp.crm.example.com/mcp');
    await waitStatus('remote', (s) => s.url === `http://mcp-remote.${ns}.svc.cluster.local:8080/mcp` && cond(s, 'ConfigValid')?.status === 'True', 'valid');
  });

  it('builds the NetworkPolicy from permissionProfile.network and write paths as emptyDirs', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'perm', namespace: ns },
      data: { 'policy.json': JSON.stringify({ write: ['/tmp'], network: { outbound: { allowHost: ['10.1.0.0/16'], allowPort: [5432] } } }) },
    });
    await createServer('netpol', { image: 'i', permissionProfile: { type: 'configMap', configMap: { name: 'perm', key: 'policy.json' } } });
    const np = await eventually('NetworkPolicy with egress', async () => {
      const n = await client.getOrUndefined<V1NetworkPolicy & { kind: string }>('NetworkPolicy', 'mcp-netpol', ns);
      return n?.spec?.egress ? n : undefined;
    });
    expect(np.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec?.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.1.0.0/16' } }], ports: [{ protocol: 'TCP', port: 5432 }] });
    const dep = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-netpol', ns);
    const mcp = dep.spec!.template.spec!.containers.find((c) => c.name === 'mcp')!;
    const m = mcp.volumeMounts!.find((x) => x.mountPath === '/tmp')!;
    expect(dep.spec!.template.spec!.volumes!.find((v) => v.name === m.name)?.emptyDir).toBeDefined();
  });
});

describe('configuration faults', () => {
  async function events(name: string): Promise<{ reason: string; message: string; type: string }[]> {
    const list = await client.request<{ items: { reason: string; message: string; type: string; involvedObject: { name: string } }[] }>('GET', `/api/v1/namespaces/${ns}/events`);
    return list.items.filter((e) => e.involvedObject.name === name);
  }

  it('missing Secret: Failed + ConfigValid=False + Event, no Deployment; recovers when the Secret appears', async () => {
    await createServer('nosecret', { image: 'i', secrets: [{ name: 'pg', key: 'url', targetEnvName: 'DATABASE_URL' }] });
    const s = await waitStatus('nosecret', (st) => st.phase === 'Failed', 'Failed');
    expect(cond(s.status!, 'ConfigValid')).toMatchObject({ status: 'False', reason: 'InvalidConfig' });
    expect(cond(s.status!, 'ConfigValid')?.message).toContain(`Secret ${ns}/pg not found`);
    expect(await client.getOrUndefined('Deployment', 'mcp-nosecret', ns)).toBeUndefined();
    await eventually('warning event', async () => (await events('nosecret')).some((e) => e.type === 'Warning' && e.message.includes('pg')));
    const before = reconciler.stats();
    await sleep(3000);
    // retried with backoff, not hammered: a handful of reconciles in 3 s
    expect(reconciler.stats().reconciles - before.reconciles).toBeLessThan(40);

    await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pg', namespace: ns }, stringData: { url: 'postgres://x' } });
    const ok = await waitStatus('nosecret', (st) => cond(st, 'ConfigValid')?.status === 'True' && st.phase !== 'Failed', 'recovered', 30_000);
    expect(ok.status?.phase).toMatch(/Pending|Starting|Running/);
    const dep = await eventually('Deployment', () => client.getOrUndefined<V1Deployment & { kind: string }>('Deployment', 'mcp-nosecret', ns));
    expect(dep.spec?.template.spec?.containers.find((c) => c.name === 'mcp')?.env).toContainEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'pg', key: 'url' } } });
  });

  it('unparsable Cedar policy: Failed with the parser message; recovers after a fix', async () => {
    await createServer('badcedar', { image: 'i', authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action'] } } });
    const s = await waitStatus('badcedar', (st) => st.phase === 'Failed', 'Failed');
    expect(cond(s.status!, 'ConfigValid')?.message).toMatch(/spec\.authzConfig\.inline\.policies\[0\]: invalid Cedar policy/);
    await patchSpec('badcedar', { authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource);'] } } });
    await waitStatus('badcedar', (st, srv) => cond(st, 'ConfigValid')?.status === 'True' && st.observedGeneration === srv.metadata.generation, 'recovered');
    const cm = await client.get<V1ConfigMap & { kind: string }>('ConfigMap', 'mcp-badcedar-agent', ns);
    expect(JSON.parse(cm.data!['agent.json']!).authzConfig.inline.policies).toEqual(['permit(principal, action, resource);']);
  });

  it('OIDC ConfigMap without issuer: Failed; fixing the ConfigMap recovers (ConfigMap watch)', async () => {
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'oidc', namespace: ns }, data: { 'oidc.json': '{"audience":"tools"}' } });
    await createServer('noissuer', { image: 'i', oidcConfig: { type: 'configMap', configMap: { name: 'oidc' } } });
    const s = await waitStatus('noissuer', (st) => st.phase === 'Failed', 'Failed');
    expect(cond(s.status!, 'ConfigValid')?.message).toContain('issuer: is required');
    await client.mergePatch('ConfigMap', 'oidc', ns, { data: { 'oidc.json': '{"issuer":"https://auth.example.com","audience":"tools"}' } });
    await waitStatus('noissuer', (st) => cond(st, 'ConfigValid')?.status === 'True', 'recovered');
    const cm = await client.get<V1ConfigMap & { kind: string }>('ConfigMap', 'mcp-noissuer-agent', ns);
    expect(JSON.parse(cm.data!['agent.json']!).oidcConfig).toMatchObject({ type: 'inline', inline: { issuer: 'https://auth.example.com' } });
  });

  it('a Deployment the API server rejects (bad volume) is reported, not retried hot', async () => {
    await createServer('badvol', { image: 'i', volumes: [{ name: 'v', hostPath: {} }] });
    const s = await waitStatus('badvol', (st) => st.phase === 'Failed', 'Failed');
    expect(cond(s.status!, 'ConfigValid')).toMatchObject({ status: 'False', reason: 'ApplyRejected' });
  });

  it('a broken config change leaves the running Deployment alone', async () => {
    const before = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-badcedar', ns);
    await patchSpec('badcedar', { authzConfig: { type: 'inline', inline: { policies: ['nope'] } } });
    await waitStatus('badcedar', (st) => st.phase === 'Failed', 'Failed');
    const after = await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-badcedar', ns);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
  });
});

describe('ClusterMCPServer', () => {
  it('creates its objects in the configured namespace, with a finalizer that cleans them up', async () => {
    const name = `shared-${randomSuffix()}`;
    await client.request('POST', '/apis/ome.io/v1beta1/clustermcpservers', {
      body: { apiVersion: 'ome.io/v1beta1', kind: 'ClusterMCPServer', metadata: { name }, spec: { image: 'i', transport: 'streamable-http', replicas: 1 } },
    });
    const base = `cmcp-${name}`;
    await eventually('cluster objects', async () =>
      Promise.all(['ServiceAccount', 'Deployment', 'Service', 'NetworkPolicy'].map((k) => client.get(k, base, systemNs)).concat([client.get('ConfigMap', `${base}-agent`, systemNs)])),
    );
    const srv = await eventually('finalizer + status', async () => {
      const s = await client.request<Server>('GET', cmcpPath(name));
      return s.metadata.finalizers?.includes(FINALIZER_CLUSTER_CLEANUP) && s.status?.url ? s : undefined;
    });
    expect(srv.status?.url).toBe(`http://${base}.${systemNs}.svc.cluster.local:8080/mcp`);
    await client.request('DELETE', cmcpPath(name));
    await eventually('objects deleted', async () => {
      const left = await Promise.all(['ServiceAccount', 'Deployment', 'Service', 'NetworkPolicy'].map((k) => client.getOrUndefined(k, base, systemNs)));
      return left.every((x) => x === undefined);
    });
    await eventually('ClusterMCPServer gone', async () => (await client.request('GET', cmcpPath(name)).then(() => false, () => true)));
  });
});

describe('control plane', () => {
  it('feature gate off: nothing starts', async () => {
    const r = await start({ featureGates: 'MCPServerSupport=false' });
    expect(r.enabled).toBe(false);
    expect(r.isLeader()).toBe(false);
    await r.stop();
  });

  it('a second instance waits for the Lease and takes over when the leader stops', async () => {
    const second = await start({ identity: 'second' });
    try {
      await sleep(1500);
      expect(second.isLeader()).toBe(false);
      await reconciler.stop();
      await eventually('second leads', () => second.isLeader(), 15_000);
      // the new leader reconciles: a new server converges
      await createServer('after-handover', { image: 'i' });
      await eventually('Deployment from the new leader', () => client.getOrUndefined('Deployment', 'mcp-after-handover', ns));
    } finally {
      reconciler = second; // afterAll stops it
    }
  });

  it('converges after a kube-apiserver restart', async () => {
    await restartSharedApiServer(inject('k8s'), { downMs: 2_000 });
    await createServer('after-restart', { image: 'i' });
    await patchSpec('basic', { replicas: 1 });
    await eventually('Deployment after restart', () => client.getOrUndefined('Deployment', 'mcp-after-restart', ns), 90_000);
    await waitStatus('after-restart', (st, srv) => st.observedGeneration === srv.metadata.generation && !!st.phase, 'status after restart', 90_000);
    await eventually('basic scaled to 1', async () => (await client.get<V1Deployment & { kind: string }>('Deployment', 'mcp-basic', ns)).spec?.replicas === 1, 90_000);
    expect(reconciler.isLeader()).toBe(true);
  });
});
