import { describe, expect, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import { Value } from 'typebox/value';
import { AGENT_CONTAINER_NAME } from '../../../api/annotations.js';
import { MCPGATEWAY_KIND, MCPGatewaySpec, type MCPGatewaySpec as Spec } from '../../../api/v1beta1/mcpgateway.js';
import { buildAll, type DesiredObject } from '../desired.js';
import { resolve } from '../resolve.js';
import type { Server } from '../servers.js';
import { selectBackends, type BackendSources } from './backends.js';
import type { ReferenceGrant } from '../../../api/gateway-api.js';
import { serverSpecOf } from './reconciler.js';
import { CONDITION_BACKENDS_READY, deriveMCPGatewayStatus } from './status.js';

const NS = 'team';
const DOMAIN = 'cluster.local';
const gwSpec = (s: object): Spec => Value.Default(MCPGatewaySpec, structuredClone(s)) as Spec;
const server = (name: string, labels: Record<string, string>, ready: boolean | undefined, spec: object = {}): Server =>
  ({
    metadata: { name, namespace: NS, labels, uid: `u-${name}` },
    spec: { image: 'i', ...spec },
    status: ready === undefined ? {} : { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'Running' : 'Starting', message: ready ? '1/1 replicas ready' : '0/1 replicas ready', lastTransitionTime: 't' }] },
  }) as unknown as Server;

/** Servers of any namespace (by their metadata), ClusterMCPServers, grants by namespace (undefined: the API is not served). */
const sourcesOf = (all: Server[], cluster: Server[] = [], grants?: Record<string, ReferenceGrant[]>): BackendSources => ({
  servers: (ns) => all.filter((s) => s.metadata.namespace === ns),
  clusterServer: (n) => cluster.find((s) => s.metadata.name === n),
  clusterNamespace: 'ome-mcp-system',
  ...(grants ? { grants: (ns: string) => grants[ns] ?? [] } : {}),
});

const servers = [server('everything', { tier: 'a' }, true), server('memory', { tier: 'a' }, false, { port: 9000 }), server('other', { tier: 'b' }, true)];

describe('selectBackends', () => {
  it("selects by label: each server's Service URL, readiness from its Ready condition", () => {
    const r = selectBackends(gwSpec({ serverSelector: { matchLabels: { tier: 'a' } } }), NS, sourcesOf(servers), DOMAIN);
    expect(r.problems).toEqual([]);
    expect(r.backends).toEqual([
      { name: 'everything', url: 'http://mcp-everything.team.svc.cluster.local:8080/mcp', transport: 'streamable-http' },
      { name: 'memory', url: 'http://mcp-memory.team.svc.cluster.local:9000/mcp', transport: 'streamable-http' },
    ]);
    expect(r.status.map((s) => [s.name, s.server, s.ready, s.message])).toEqual([
      ['everything', 'everything', true, '1/1 replicas ready'],
      ['memory', 'memory', false, '0/1 replicas ready'],
    ]);
    expect(r.refs).toEqual(['MCPServer/team/everything', 'MCPServer/team/memory']);
  });

  it('explicit entries: a serverRef (renamed, with options) and a URL; an entry naming a selected server sets its options', () => {
    const spec = gwSpec({
      serverSelector: { matchLabels: { tier: 'a' } },
      backends: [
        { serverRef: { name: 'memory' }, name: 'mem', toolsFilter: ['read_graph'], priority: 2 },
        { name: 'ext', url: 'https://mcp.example.com/mcp', transport: 'sse' },
        { serverRef: { name: 'other' }, rename: { echo: 'say' } },
      ],
    });
    const r = selectBackends(spec, NS, sourcesOf(servers), DOMAIN);
    expect(r.problems).toEqual([]);
    expect(r.backends.map((b) => b.name)).toEqual(['mem', 'ext', 'other', 'everything']);
    expect(r.backends[0]).toMatchObject({ url: 'http://mcp-memory.team.svc.cluster.local:9000/mcp', toolsFilter: ['read_graph'], priority: 2 });
    expect(r.backends[1]).toEqual({ name: 'ext', url: 'https://mcp.example.com/mcp', transport: 'sse' });
    expect(r.backends[2]).toMatchObject({ rename: { echo: 'say' } });
  });

  it('a missing server is a backend not ready (left out of the config); bad and duplicate names are problems', () => {
    const r = selectBackends(gwSpec({ backends: [{ serverRef: { name: 'gone' } }, { serverRef: { name: 'a.b' } }, { serverRef: { name: 'everything' } }, { name: 'everything', url: 'http://x/mcp' }] }), NS, sourcesOf(servers), DOMAIN);
    expect(r.status[0]).toEqual({ name: 'gone', server: 'gone', ready: false, reason: 'NotFound', message: 'MCPServer team/gone not found' });
    expect(r.backends.map((b) => b.name)).toEqual(['everything']);
    expect(r.problems).toEqual([
      'spec.backends[1]: backend name "a.b" is not a DNS label (at most 63 of a-z, 0-9, -): give the entry a name',
      'spec.backends[3]: backend name everything is taken by spec.backends[2]',
    ]);
  });

  it('never crashes on a server without status or spec', () => {
    const bare = { metadata: { name: 'bare', namespace: NS } } as unknown as Server;
    const r = selectBackends(gwSpec({ serverSelector: {} }), NS, sourcesOf([bare]), DOMAIN);
    expect(r.status).toEqual([{ name: 'bare', server: 'bare', url: 'http://mcp-bare.team.svc.cluster.local:8080/mcp', ready: false, reason: 'NotReady', message: 'the MCPServer has no Ready condition yet' }]);
  });
});

describe('selectBackends across namespaces', () => {
  const other = { ...server('memory', {}, true), metadata: { name: 'memory', namespace: 'shared', uid: 'u-m2' } } as unknown as Server;
  const shared = { ...server('search', {}, true), metadata: { name: 'search', uid: 'u-s' } } as unknown as Server;
  const grant = (to: { name?: string }, fromNs = NS): ReferenceGrant => ({
    metadata: { name: 'gw-may-use', namespace: 'shared' },
    spec: { from: [{ group: 'ome.io', kind: 'MCPGateway', namespace: fromNs }], to: [{ group: 'ome.io', kind: 'MCPServer', ...to }] },
  });
  const spec = gwSpec({ backends: [{ serverRef: { name: 'memory', namespace: 'shared' }, name: 'mem2' }, { serverRef: { kind: 'ClusterMCPServer', name: 'search' } }] });

  it('a ClusterMCPServer needs no grant: its Service in the operator namespace', () => {
    const r = selectBackends(spec, NS, sourcesOf([other], [shared], {}), DOMAIN);
    expect(r.backends).toEqual([{ name: 'search', url: 'http://cmcp-search.ome-mcp-system.svc.cluster.local:8080/mcp', transport: 'streamable-http' }]);
    expect(r.status[1]).toEqual({ name: 'search', server: 'search', kind: 'ClusterMCPServer', url: 'http://cmcp-search.ome-mcp-system.svc.cluster.local:8080/mcp', ready: true, message: '1/1 replicas ready' });
    expect(r.refs).toEqual(['ReferenceGrant/shared/', 'ClusterMCPServer//search']);
  });

  it('an MCPServer of another namespace: not without a grant there (why, in its status); with one, by name or for all', () => {
    const denied = selectBackends(spec, NS, sourcesOf([other], [shared], { shared: [grant({}, 'elsewhere'), grant({ name: 'other' })] }), DOMAIN);
    expect(denied.status[0]).toEqual({
      name: 'mem2',
      server: 'memory',
      namespace: 'shared',
      ready: false,
      reason: 'RefNotPermitted',
      message: 'no ReferenceGrant in namespace shared allows from {group: ome.io, kind: MCPGateway, namespace: team} to {group: ome.io, kind: MCPServer, name: memory}',
    });
    expect(denied.backends.map((b) => b.name)).toEqual(['search']);
    for (const g of [grant({ name: 'memory' }), grant({})]) {
      const r = selectBackends(spec, NS, sourcesOf([other], [shared], { shared: [g] }), DOMAIN);
      expect(r.backends[0]).toEqual({ name: 'mem2', url: 'http://mcp-memory.shared.svc.cluster.local:8080/mcp', transport: 'streamable-http' });
      expect(r.status[0]).toMatchObject({ name: 'mem2', namespace: 'shared', ready: true });
    }
  });

  it('without the ReferenceGrant API nothing of another namespace is permitted, and it says so', () => {
    const r = selectBackends(spec, NS, sourcesOf([other], [shared]), DOMAIN);
    expect(r.grantsUnavailable).toBe(true);
    expect(r.status[0]).toMatchObject({ reason: 'RefNotPermitted', message: expect.stringContaining('the ReferenceGrant API (gateway.networking.k8s.io/v1beta1) is not served in this cluster') });
    expect(r.status[1]).toMatchObject({ name: 'search', ready: true });
  });
});

describe('the MCPGateway objects', () => {
  const ref = { kind: MCPGATEWAY_KIND, name: 'front', namespace: NS } as const;
  const lookup = { configMap: () => undefined, secret: () => undefined };

  async function build(spec: Spec): Promise<DesiredObject[]> {
    const selected = selectBackends(spec, NS, sourcesOf(servers), DOMAIN);
    const r = await resolve(ref, serverSpecOf(spec), lookup, { clusterDomain: DOMAIN, backends: { backends: selected.backends, ...(spec.aggregate ? { aggregate: spec.aggregate } : {}) } });
    expect(r.problems).toEqual([]);
    return buildAll({ ref, spec: serverSpecOf(spec), agentConfig: r.agentConfig!, owner: { kind: MCPGATEWAY_KIND, name: 'front', uid: 'u-gw' }, injector: { agentImage: 'agent:test' } });
  }

  it('a ConfigMap with the backends and the policy, an agent-only Deployment in backends mode, a Service', async () => {
    const objs = await build(
      gwSpec({
        serverSelector: { matchLabels: { tier: 'a' } },
        aggregate: { separator: '__' },
        replicas: 2,
        port: 8000,
        authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource) when { resource.backend == "memory" };'] } },
      }),
    );
    expect(objs.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'NetworkPolicy', 'PodDisruptionBudget', 'Deployment']);
    for (const o of objs) {
      expect(o.metadata?.name).toMatch(/^mcpgw-front/);
      expect(o.metadata?.labels?.['mcp.ome.io/mcpgateway']).toBe('front');
      expect(o.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'MCPGateway', name: 'front', uid: 'u-gw', controller: true });
    }
    const config = JSON.parse((objs[1] as { data: Record<string, string> }).data['agent.json']!);
    expect(config.backends.map((b: { url: string }) => b.url)).toEqual(['http://mcp-everything.team.svc.cluster.local:8080/mcp', 'http://mcp-memory.team.svc.cluster.local:9000/mcp']);
    expect(config).toMatchObject({ aggregate: { separator: '__', collision: 'prefix' }, resourceURL: 'http://mcpgw-front.team.svc.cluster.local:8000/mcp', authzConfig: { type: 'inline' } });
    expect(config.upstream).toBeUndefined();
    expect(config.catalogOnly).toBeUndefined();
    const d = objs.at(-1) as V1Deployment;
    expect(d.spec?.replicas).toBe(2);
    const pod = d.spec!.template;
    expect(pod.metadata?.annotations?.['mcp.ome.io/backends']).toBe('true');
    expect(pod.spec?.containers.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(pod.spec?.initContainers ?? []).toEqual([]);
    const args = pod.spec!.containers[0]!.args!;
    expect(args).toContain('--config');
    expect(args.filter((a) => a.startsWith('--upstream') || a === '--catalog-only')).toEqual([]);
    expect((objs[2] as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port).toBe(8000);
  });
});

describe('deriveMCPGatewayStatus', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const deployment: V1Deployment = {
    metadata: { generation: 1 },
    status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] },
  };
  const input = (backends: Parameters<typeof deriveMCPGatewayStatus>[0]['backends'], previous?: Parameters<typeof deriveMCPGatewayStatus>[0]['previous']) =>
    deriveMCPGatewayStatus({ generation: 3, deleting: false, problems: [], deployment, desiredReplicas: 1, url: 'http://mcpgw-front.team.svc.cluster.local:8080/mcp', backends, previous, now });

  it('Ready from the Deployment, BackendsReady from the backends, each listed', () => {
    const s = input([
      { name: 'a', server: 'a', ready: true },
      { name: 'b', server: 'b', ready: false, message: 'MCPServer team/b not found' },
    ]);
    const byType = Object.fromEntries(s.conditions!.map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: 'True', reason: 'Running', observedGeneration: 3 });
    expect(byType[CONDITION_BACKENDS_READY]).toMatchObject({ status: 'False', reason: 'BackendNotReady', message: '1/2 ready; b: MCPServer team/b not found' });
    expect(s).toMatchObject({ phase: 'Running', url: 'http://mcpgw-front.team.svc.cluster.local:8080/mcp', observedGeneration: 3 });
    expect(s.backends).toHaveLength(2);
  });

  it('all ready; none at all says so; an unchanged status keeps its times', () => {
    const s = input([{ name: 'a', ready: true }]);
    expect(s.conditions!.find((c) => c.type === CONDITION_BACKENDS_READY)).toMatchObject({ status: 'True', reason: 'AllReady', message: '1/1 ready' });
    expect(input([]).conditions!.find((c) => c.type === CONDITION_BACKENDS_READY)).toMatchObject({ status: 'False', reason: 'NoBackends' });
    const later = deriveMCPGatewayStatus({ generation: 3, deleting: false, problems: [], deployment, desiredReplicas: 1, url: s.url!, backends: s.backends!, previous: s, now: new Date('2026-12-01T13:00:00Z') });
    expect(later).toEqual(s);
  });
});
