import { describe, expect, it } from 'vitest';
import type { V1Container, V1PodTemplateSpec } from '@kubernetes/client-node';
import { policyConfigHash } from './pod-nudge.js';
import { parseAgentConfig } from '../../api/agent-config.js';
import { AGENT_CONTAINER_NAME, ANNOTATION_INJECT, ANNOTATION_INJECTED, ANNOTATION_UPSTREAM_URL, MCP_CONTAINER_NAME } from '../../api/annotations.js';
import { MCPServerSpec, type MCPServerSpec as Spec } from '../../api/v1beta1/mcpserver.js';
import { Value } from 'typebox/value';
import { agentOpsPort, agentPort, bridgeMode, buildAll, buildDeployment, buildNetworkPolicy, buildService, InjectionDenied, type BuildInput } from './desired.js';
import { baseName, fit, selectorLabels } from './names.js';
import { BUILTIN_PROFILES } from './resolve.js';

const ref = { kind: 'MCPServer' as const, name: 'fs', namespace: 'tools' };
const spec = (s: Partial<Spec>): Spec => Value.Default(MCPServerSpec, structuredClone({ image: 'mcp/fs:1', ...s })) as Spec;
const input = (s: Partial<Spec>, extra: Partial<BuildInput> = {}): BuildInput => ({
  ref,
  spec: spec(s),
  agentConfig: parseAgentConfig({ name: 'fs' }),
  owner: { kind: 'MCPServer', name: 'fs', uid: 'u-1' },
  injector: { agentImage: 'ghcr.io/ome/mcp-agent:test' },
  ...extra,
});
const pod = (i: BuildInput) => buildDeployment(i).spec!.template;
const container = (t: V1PodTemplateSpec, name: string): V1Container | undefined =>
  [...(t.spec?.containers ?? []), ...(t.spec?.initContainers ?? [])].find((c) => c.name === name);

describe('buildAll', () => {
  it('builds SA, ConfigMap, RBAC (attach), Service, NetworkPolicy, PodDisruptionBudget and Deployment, all owned and labelled', () => {
    const objs = buildAll(input({}));
    expect(objs.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Role', 'RoleBinding', 'Service', 'NetworkPolicy', 'PodDisruptionBudget', 'Deployment']);
    for (const o of objs) {
      expect(o.metadata?.namespace).toBe('tools');
      expect(o.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'MCPServer', name: 'fs', uid: 'u-1', controller: true });
      expect(o.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('ome-mcp');
    }
  });

  it('skips the ServiceAccount when the spec names one', () => {
    const objs = buildAll(input({ serviceAccount: 'mine' }));
    expect(objs.some((o) => o.kind === 'ServiceAccount')).toBe(false);
    expect(pod(input({ serviceAccount: 'mine' })).spec?.serviceAccountName).toBe('mine');
  });

  it('gives ClusterMCPServer objects no owner reference and a distinct name', () => {
    const objs = buildAll({ ...input({}), ref: { kind: 'ClusterMCPServer', name: 'fs', namespace: 'ome' }, owner: undefined });
    for (const o of objs) expect(o.metadata?.ownerReferences).toBeUndefined();
    expect(objs.find((o) => o.kind === 'Deployment')?.metadata?.name).toBe('cmcp-fs');
    expect(objs.find((o) => o.kind === 'Deployment')?.metadata?.labels?.['mcp.ome.io/clustermcpserver']).toBe('fs');
  });

  it('puts the agent config in the ConfigMap', () => {
    const cm = buildAll(input({})).find((o) => o.kind === 'ConfigMap') as { data: Record<string, string> };
    expect(JSON.parse(cm.data['agent.json']!)).toMatchObject({ name: 'fs', limits: { requestTimeout: '30s' } });
  });
});

describe('Deployment', () => {
  it('runs the server container from image/args/env/secrets with a restrictive security context', () => {
    const t = pod(
      input({
        args: ['--root', '/data'],
        env: [{ name: 'A', value: '1' }],
        secrets: [{ name: 'db', key: 'url', targetEnvName: 'DATABASE_URL' }, { name: 'tok', key: 'TOKEN' }],
        resources: { limits: { cpu: '500m' } },
      }),
    );
    const c = container(t, MCP_CONTAINER_NAME)!;
    expect(c.image).toBe('mcp/fs:1');
    expect(c.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 'TOKEN' } } },
    ]);
    expect(c.resources).toEqual({ limits: { cpu: '500m' } });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(t.spec?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('injects the agent with the shared mutation and marks the template injected', () => {
    const t = pod(input({}));
    expect(container(t, AGENT_CONTAINER_NAME)?.image).toBe('ghcr.io/ome/mcp-agent:test');
    expect(t.metadata?.annotations?.[ANNOTATION_INJECT]).toBe('true');
    expect(t.metadata?.annotations?.[ANNOTATION_INJECTED]).toBeDefined();
  });

  it('uses the fifo bridge when podTemplateSpec gives the command, attach otherwise', () => {
    expect(bridgeMode(spec({}))).toBe('attach');
    const s = { podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['node', 'server.js'] }] } } } as Partial<Spec>;
    expect(bridgeMode(spec(s))).toBe('fifo');
    const c = container(pod(input(s)), MCP_CONTAINER_NAME)!;
    expect(c.command?.slice(-2)).toEqual(['node', 'server.js']);
    expect(buildAll(input(s)).some((o) => o.kind === 'Role')).toBe(false);
  });

  it('merges podTemplateSpec by container name and keeps the selector labels', () => {
    const t = pod(
      input({
        podTemplateSpec: {
          metadata: { labels: { team: 'a', 'app.kubernetes.io/instance': 'hijack' } },
          spec: {
            priorityClassName: 'high',
            containers: [
              { name: 'mcp', imagePullPolicy: 'Always', env: [{ name: 'X', value: 'y' }] },
              { name: 'helper', image: 'busybox' },
            ],
          },
        } as Spec['podTemplateSpec'],
      }),
    );
    expect(t.metadata?.labels).toMatchObject({ team: 'a', ...selectorLabels(ref) });
    expect(t.spec?.priorityClassName).toBe('high');
    const mcp = container(t, 'mcp')!;
    expect(mcp.image).toBe('mcp/fs:1');
    expect(mcp.imagePullPolicy).toBe('Always');
    expect(mcp.env).toEqual([{ name: 'X', value: 'y' }]);
    expect(container(t, 'helper')?.image).toBe('busybox');
  });

  it('mounts permission-profile write paths as emptyDirs', () => {
    const i = input({}, { permissions: { write: ['/tmp', '/var/out'] } });
    const t = pod(i);
    const mounts = container(t, 'mcp')!.volumeMounts!.filter((m) => m.name.startsWith('mcp-write-'));
    expect(mounts.map((m) => m.mountPath)).toEqual(['/tmp', '/var/out']);
    for (const m of mounts) expect(t.spec?.volumes?.find((v) => v.name === m.name)?.emptyDir).toEqual({});
  });

  it('carries replicas, tolerations, nodeSelector, affinity, volumes and volumeMounts', () => {
    const d = buildDeployment(
      input({
        replicas: 3,
        tolerations: [{ key: 'gpu', operator: 'Exists' }],
        nodeSelector: { pool: 'tools' },
        affinity: { nodeAffinity: {} },
        volumes: [{ name: 'data', emptyDir: {} }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      }),
    );
    expect(d.spec?.replicas).toBe(3);
    const ps = d.spec!.template.spec!;
    expect(ps.tolerations).toEqual([{ key: 'gpu', operator: 'Exists' }]);
    expect(ps.nodeSelector).toEqual({ pool: 'tools' });
    expect(ps.affinity).toEqual({ nodeAffinity: {} });
    expect(ps.volumes?.some((v) => v.name === 'data')).toBe(true);
    expect(container(d.spec!.template, 'mcp')!.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  it('Remote: agent-only pod whose upstream is the URL', () => {
    const t = pod(input({ type: 'Remote', url: 'https://mcp.example.com/mcp', image: undefined }));
    expect(t.spec?.containers?.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(t.metadata?.annotations?.[ANNOTATION_UPSTREAM_URL]).toBe('https://mcp.example.com/mcp');
    expect(container(t, AGENT_CONTAINER_NAME)?.args).toContain('https://mcp.example.com/mcp');
  });

  it('Catalog: the agent alone with --catalog-only, the catalog Secret mounted into it read-only', () => {
    const catalogConfig = parseAgentConfig({ name: 'fs', catalogOnly: true, catalog: { tools: [{ name: 't', http: { url: 'http://search.tools.svc.cluster.local:8080/q' } }] } });
    const t = pod(input({ type: 'Catalog', image: undefined, toolSelector: { matchLabels: { app: 'x' } } }, { agentConfig: catalogConfig, catalogSecret: 'mcp-fs-catalog' }));
    expect(t.spec?.containers?.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(t.spec?.initContainers ?? []).toEqual([]);
    const agent = container(t, AGENT_CONTAINER_NAME)!;
    expect(agent.args).toContain('--catalog-only');
    expect(agent.args).not.toContain('--upstream-fifo');
    expect(agent.volumeMounts).toContainEqual({ name: 'ome-mcp-catalog', mountPath: '/etc/ome-mcp-catalog', readOnly: true });
    expect(t.spec?.volumes).toContainEqual({ name: 'ome-mcp-catalog', secret: { secretName: 'mcp-fs-catalog', defaultMode: 0o440 } });
    expect(t.metadata?.annotations?.['mcp.ome.io/transport']).toBeUndefined();
    // Without secret items there is no mount; a Hosted server's own container never gets one.
    expect(pod(input({ type: 'Catalog', image: undefined }, { agentConfig: catalogConfig })).spec?.volumes?.some((v) => v.name === 'ome-mcp-catalog')).toBeFalsy();
    const hosted = pod(input({ command: undefined, podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['srv'] }] } } } as Partial<Spec>, { catalogSecret: 'mcp-fs-catalog' }));
    expect(container(hosted, MCP_CONTAINER_NAME)!.volumeMounts?.some((m) => m.name === 'ome-mcp-catalog')).toBeFalsy();
    expect(container(hosted, AGENT_CONTAINER_NAME)!.volumeMounts).toContainEqual({ name: 'ome-mcp-catalog', mountPath: '/etc/ome-mcp-catalog', readOnly: true });
  });

  it('a catalog change is reloaded in place: the config hash of the pod template stays', () => {
    const a = parseAgentConfig({ name: 'fs', catalog: { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'a' }] }] } });
    const b = parseAgentConfig({ name: 'fs', catalog: { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'b' }] }] } });
    const hash = (c: typeof a) => pod(input({}, { agentConfig: c })).metadata?.annotations?.['mcp.ome.io/config-hash'];
    expect(hash(a)).toBe(hash(b));
    expect(policyConfigHash(a)).not.toBe(policyConfigHash(b));
  });

  it('HTTP transports: the agent fronts localhost:targetPort and moves off a clashing port', () => {
    const s = spec({ transport: 'streamable-http' });
    expect(agentPort(s)).toBe(8090);
    const t = pod(input({ transport: 'streamable-http' }));
    expect(t.metadata?.annotations?.[ANNOTATION_UPSTREAM_URL]).toBe('http://127.0.0.1:8080/mcp');
    expect(buildService(input({ transport: 'streamable-http' })).spec?.ports?.[0]).toMatchObject({ port: 8080, targetPort: 8090 });
    expect(agentPort(spec({ transport: 'sse', targetPort: 3000 }))).toBe(8080);
  });

  it('reports a template the mutation refuses as InjectionDenied', () => {
    expect(() =>
      buildDeployment(input({ podTemplateSpec: { spec: { containers: [{ name: 'mcp-agent', image: 'x' }] } } as Spec['podTemplateSpec'] })),
    ).toThrow(InjectionDenied);
  });
});

describe('Service', () => {
  it('targets the agent port, exposes spec.port', () => {
    const s = buildService(input({ port: 9000 }));
    expect(s.metadata?.name).toBe('mcp-fs');
    expect(s.spec?.ports).toEqual([{ name: 'mcp', port: 9000, targetPort: 9000, protocol: 'TCP', appProtocol: 'http' }]);
    expect(s.spec?.selector).toEqual(selectorLabels(ref));
  });
});

describe('NetworkPolicy', () => {
  it("always limits ingress to the agent's ports (MCP, ops); no profile leaves egress open", () => {
    const np = buildNetworkPolicy(input({}));
    expect(np.spec?.policyTypes).toEqual(['Ingress']);
    expect(np.spec?.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 9090 }] }]);
  });

  it('builtin none: egress only DNS (and the API server when the agent needs it)', () => {
    const np = buildNetworkPolicy(input({ podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['x'] }] } } as Spec['podTemplateSpec'] }, { permissions: BUILTIN_PROFILES.none }));
    expect(np.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec?.egress).toEqual([{ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }]);
  });

  it('builtin network: egress open', () => {
    expect(buildNetworkPolicy(input({}, { permissions: BUILTIN_PROFILES.network })).spec?.policyTypes).toEqual(['Ingress']);
  });
});

describe('egress under a permission profile: the proxy variables, the NetworkPolicy, read paths', () => {
  const DNS = { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] };
  const ANY = [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }, { ipBlock: { cidr: '::/0', except: ['fe80::/10'] } }, { namespaceSelector: {} }];
  const fifo = { podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['x'] }] } } as Spec['podTemplateSpec'] };
  /** What resolve.ts gives a restricted Hosted server: the profile and the agent's egress section. */
  const restricted = (outbound: { allowHost?: string[]; allowPort?: number[] }, s: Partial<Spec> = fifo, config: object = {}, extra: Partial<BuildInput> = {}) =>
    input(s, {
      permissions: { network: { outbound: { insecureAllowAll: false, ...outbound } } },
      agentConfig: parseAgentConfig({ name: 'fs', ...config, egress: { port: 3128, allowHost: outbound.allowHost ?? [], allowPort: outbound.allowPort ?? [] } }),
      ...extra,
    });

  it('the server container gets HTTP(S)_PROXY, NO_PROXY (both cases) and NODE_USE_ENV_PROXY; its own values of them are replaced', () => {
    const mcp = container(pod(restricted({ allowHost: ['api.github.com'] }, { ...fifo, env: [{ name: 'HTTPS_PROXY', value: 'http://elsewhere:3128' }, { name: 'KEEP', value: '1' }] })), 'mcp')!;
    const env = Object.fromEntries((mcp.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toEqual({
      KEEP: '1',
      HTTP_PROXY: 'http://127.0.0.1:3128',
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      http_proxy: 'http://127.0.0.1:3128',
      https_proxy: 'http://127.0.0.1:3128',
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      NODE_USE_ENV_PROXY: '1',
    });
    expect(container(pod(input(fifo)), 'mcp')!.env).toBeUndefined();
  });

  it('IP/CIDR entries only: exactly those addresses, on allowPort', () => {
    const np = buildNetworkPolicy(restricted({ allowHost: ['10.0.0.0/8', '192.168.1.5'], allowPort: [5432] }));
    expect(np.spec?.egress).toEqual([DNS, { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: '192.168.1.5/32' } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);
  });

  it('a host name among them: allowPort to any address but link-local (a NetworkPolicy cannot match names); no allowPort: every port', () => {
    expect(buildNetworkPolicy(restricted({ allowHost: ['10.0.0.0/8', 'db.internal'], allowPort: [5432, 443] })).spec?.egress).toEqual([
      DNS,
      { to: ANY, ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 5432 }] },
    ]);
    expect(buildNetworkPolicy(restricted({ allowHost: ['.example.com'] })).spec?.egress).toEqual([DNS, { to: ANY }]);
    expect(buildNetworkPolicy(restricted({ allowPort: [443] })).spec?.egress).toEqual([DNS, { to: ANY, ports: [{ protocol: 'TCP', port: 443 }] }]);
  });

  it('builtin none with Kubernetes tokens: the API server at its own addresses only, not 443/6443 to everyone', () => {
    const apiServer = { service: { address: '10.96.0.1', port: 443 }, endpoints: [{ address: '172.18.0.2', port: 6443 }] };
    const k8s = { oidcConfig: { type: 'kubernetes', kubernetes: { namespace: 'tools' } } };
    expect(buildNetworkPolicy(restricted({}, fifo, k8s, { apiServer })).spec?.egress).toEqual([
      DNS,
      { to: [{ ipBlock: { cidr: '10.96.0.1/32' } }, { ipBlock: { cidr: '172.18.0.2/32' } }], ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] },
    ]);
    // The addresses unknown (an install without the RBAC to read them): the ports, as before.
    expect(buildNetworkPolicy(restricted({}, fifo, k8s)).spec?.egress).toEqual([DNS, { to: ANY, ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] }]);
  });

  it('an inline issuer: its own address when it is an IP, any address on its port when it is a name; the API server is not opened', () => {
    const oidc = (issuer: string) => ({ oidcConfig: { type: 'inline', inline: { issuer, audience: 'a' } } });
    expect(buildNetworkPolicy(restricted({}, fifo, oidc('https://10.1.2.3:8443'))).spec?.egress).toEqual([DNS, { to: [{ ipBlock: { cidr: '10.1.2.3/32' } }], ports: [{ protocol: 'TCP', port: 8443 }] }]);
    expect(buildNetworkPolicy(restricted({ allowHost: ['api.github.com'], allowPort: [443] }, fifo, oidc('https://idp.example.com'))).spec?.egress).toEqual([
      DNS,
      { to: ANY, ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  it('the hosts of declared tools and resources on their ports, for the agent that calls them', () => {
    const agentConfig = parseAgentConfig({ name: 'fs', catalog: { tools: [{ name: 't', http: { url: 'http://search.tools.svc.cluster.local:8081/q/{query}' } }], resources: [{ uri: 'x://r', name: 'r', http: { url: 'https://10.0.0.9/r' } }] } });
    const egress = buildNetworkPolicy(input({}, { agentConfig, permissions: { network: { outbound: { insecureAllowAll: false } } } })).spec?.egress ?? [];
    // A name: any address on its port (merged with the other any-address rules).
    expect(egress.some((r) => r.to?.some((p) => p.ipBlock?.cidr === '0.0.0.0/0') && r.ports?.some((p) => p.port === 8081))).toBe(true);
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.0.0.9/32' } }], ports: [{ protocol: 'TCP', port: 443 }] });
  });

  it('a Remote server (no server container, no proxy): its URL host on its port', () => {
    const remote = input({ type: 'Remote', url: 'https://203.0.113.7:9443/mcp' }, { permissions: { network: { outbound: { insecureAllowAll: false } } } });
    expect(buildNetworkPolicy(remote).spec?.egress).toEqual([DNS, { to: [{ ipBlock: { cidr: '203.0.113.7/32' } }], ports: [{ protocol: 'TCP', port: 9443 }] }]);
    expect(pod(remote).spec?.containers.find((c) => c.name === 'mcp')).toBeUndefined();
  });

  it('read paths: a volume mount inside one, or holding one, is mounted read-only; other mounts are left as written', () => {
    const s: Partial<Spec> = {
      ...fifo,
      volumes: [{ name: 'data', configMap: { name: 'd' } }, { name: 'cache', emptyDir: {} }, { name: 'ref', configMap: { name: 'r' } }],
      volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cache', mountPath: '/cache' }, { name: 'ref', mountPath: '/srv/ref/docs' }],
    };
    const mcp = container(pod(input(s, { permissions: { read: ['/data/reports', '/srv/ref'], write: ['/tmp'] } })), 'mcp')!;
    expect(mcp.volumeMounts?.filter((m) => m.name !== 'ome-mcp-bridge')).toEqual([
      { name: 'data', mountPath: '/data', readOnly: true },
      { name: 'cache', mountPath: '/cache' },
      { name: 'ref', mountPath: '/srv/ref/docs', readOnly: true },
      { name: expect.stringMatching(/^mcp-write-/), mountPath: '/tmp' },
    ]);
  });
});

describe('TLS and the ops port', () => {
  const agentOf = (t: V1PodTemplateSpec) => container(t, AGENT_CONTAINER_NAME)!;

  it('spec.tls: the Secret reaches the agent alone through the pod mutation; the Service says https', () => {
    const i = input({ tls: { secretName: 'fs-tls' } });
    const t = pod(i);
    expect(t.metadata?.annotations?.['mcp.ome.io/tls-secret']).toBe('fs-tls');
    expect(t.spec?.volumes).toContainEqual({ name: 'ome-mcp-tls', secret: { secretName: 'fs-tls' } });
    expect(agentOf(t).volumeMounts).toContainEqual({ name: 'ome-mcp-tls', mountPath: '/etc/ome-mcp-tls', readOnly: true });
    expect(agentOf(t).args).toEqual(expect.arrayContaining(['--tls-cert-file', '/etc/ome-mcp-tls/tls.crt', '--tls-key-file', '/etc/ome-mcp-tls/tls.key']));
    expect(container(t, MCP_CONTAINER_NAME)!.volumeMounts ?? []).not.toContainEqual(expect.objectContaining({ name: 'ome-mcp-tls' }));
    expect(buildService(i).spec?.ports?.[0]?.appProtocol).toBe('https');
    expect(buildService(input({})).spec?.ports?.[0]?.appProtocol).toBe('http');
  });

  it('probes and the ops port: 9090, moved aside from the server port; the NetworkPolicy admits both ports', () => {
    expect(agentOf(pod(input({}))).readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 9090 });
    const http = input({ transport: 'streamable-http', targetPort: 9090 });
    expect(agentOpsPort(http)).toBe(9091);
    expect(pod(http).metadata?.annotations?.['mcp.ome.io/ops-port']).toBe('9091');
    expect(agentOf(pod(http)).startupProbe?.httpGet).toEqual({ path: '/healthz', port: 9091 });
    expect(buildNetworkPolicy(http).spec?.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 9091 }] }]);
  });
});

describe('names', () => {
  it('fits long names into 63 characters, uniquely', () => {
    const long = 'x'.repeat(100);
    const a = baseName({ kind: 'MCPServer', name: long });
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(baseName({ kind: 'MCPServer', name: `${long}y` }));
    expect(fit('short', 63)).toBe('short');
    expect(baseName({ kind: 'MCPServer', name: 'a.b' })).toBe('mcp-a-b');
  });
});

describe('OIDC introspection secret', () => {
  it('reaches the agent as env from the Secret, never through the ConfigMap', () => {
    const agentConfig = parseAgentConfig({
      name: 'fs',
      oidcConfig: { type: 'inline', inline: { issuer: 'https://idp.example.com', clientId: 'agent', clientSecretRef: { name: 'idp', key: 'secret' } } },
    });
    const t = pod(input({}, { agentConfig }));
    expect(container(t, AGENT_CONTAINER_NAME)?.env).toContainEqual({ name: 'OME_MCP_CLIENT_SECRET', valueFrom: { secretKeyRef: { name: 'idp', key: 'secret' } } });
  });
});

describe('files the agent reads from the spec volumes', () => {
  const oidc = parseAgentConfig({
    name: 'fs',
    oidcConfig: { type: 'inline', inline: { issuer: 'https://idp.example.com', thvCABundlePath: '/etc/idp-ca/ca.crt', jwksAuthTokenPath: '/var/run/idp/token' } },
  });
  const volumes = [
    { name: 'idp-ca', configMap: { name: 'idp-ca' } },
    { name: 'idp-token', secret: { secretName: 'idp-token' } },
    { name: 'data', emptyDir: {} },
  ];
  const volumeMounts = [
    { name: 'idp-ca', mountPath: '/etc/idp-ca' },
    { name: 'idp-token', mountPath: '/var/run/idp/' },
    { name: 'data', mountPath: '/data' },
  ];

  it('mounts the CA bundle and the JWKS token read-only into the agent, and nothing else', () => {
    const t = pod(input({ volumes, volumeMounts }, { agentConfig: oidc }));
    const mounts = container(t, AGENT_CONTAINER_NAME)!.volumeMounts!.filter((m) => m.name.startsWith('idp') || m.name === 'data');
    expect(mounts).toEqual([
      { name: 'idp-ca', mountPath: '/etc/idp-ca', readOnly: true },
      { name: 'idp-token', mountPath: '/var/run/idp/', readOnly: true },
    ]);
    expect(container(t, MCP_CONTAINER_NAME)!.volumeMounts!.map((m) => m.name)).toEqual(['idp-ca', 'idp-token', 'data']);
  });

  it('keeps those volumes for a Remote server (which has no server container)', () => {
    const t = pod(input({ type: 'Remote', url: 'https://mcp.example.com/mcp', volumes, volumeMounts }, { agentConfig: oidc }));
    expect(t.spec!.volumes!.map((v) => v.name).filter((n) => !n.startsWith('ome-mcp-'))).toEqual(['idp-ca', 'idp-token']);
    expect(container(t, AGENT_CONTAINER_NAME)!.volumeMounts!.some((m) => m.name === 'idp-ca')).toBe(true);
  });

  it('adds nothing when the paths are not under a spec volume (e.g. in the agent image)', () => {
    const t = pod(input({ volumes, volumeMounts: [volumeMounts[2]!] }, { agentConfig: oidc }));
    expect(container(t, AGENT_CONTAINER_NAME)!.volumeMounts?.some((m) => m.name.startsWith('idp')) ?? false).toBe(false);
  });
});

describe('config hash', () => {
  const hash = (i: BuildInput) => pod(i).metadata!.annotations!['mcp.ome.io/config-hash'];
  const cfg = (extra: object) => input({}, { agentConfig: parseAgentConfig({ name: 'fs', ...extra }) });
  it('ignores what the agent reloads in place (a Cedar policy or tool filter edit keeps the pods)', () => {
    const a = cfg({ authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource);'] } } });
    const b = cfg({ authzConfig: { type: 'inline', inline: { policies: ['forbid(principal, action, resource);'] } }, toolsFilter: ['echo'] });
    expect(hash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(a)).toBe(hash(b));
    expect(policyConfigHash(a.agentConfig)).not.toBe(policyConfigHash(b.agentConfig));
  });
  it('changes with what takes a restart (limits, sessions), which rolls the pods', () => {
    const a = cfg({});
    expect(hash(a)).toBe(hash(structuredClone(a)));
    expect(hash(a)).not.toBe(hash(cfg({ limits: { maxConcurrentRequests: 3 } })));
    expect(hash(a)).not.toBe(hash(cfg({ sessionMode: 'per-session' })));
  });
});

describe('API credentials', () => {
  const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
  const mounts = (t: V1PodTemplateSpec, name: string) => (container(t, name)?.volumeMounts ?? []).map((m) => m.mountPath);
  it('attach bridge: the agent gets a projected token, the server container none', () => {
    const t = pod(input({}));
    expect(t.spec!.automountServiceAccountToken).toBe(false);
    expect(mounts(t, AGENT_CONTAINER_NAME)).toContain(TOKEN_DIR);
    expect(mounts(t, MCP_CONTAINER_NAME)).not.toContain(TOKEN_DIR);
  });
  it('FIFO bridge without cluster tokens: nobody gets one; with Kubernetes OIDC: the agent only', () => {
    const fifo = { podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['/server'] }] } } } as Partial<Spec>;
    expect(mounts(pod(input(fifo)), AGENT_CONTAINER_NAME)).not.toContain(TOKEN_DIR);
    const k8s = pod(input(fifo, { agentConfig: parseAgentConfig({ name: 'fs', oidcConfig: { type: 'kubernetes', kubernetes: { audience: 'a' } } }) }));
    expect(mounts(k8s, AGENT_CONTAINER_NAME)).toContain(TOKEN_DIR);
    expect(mounts(k8s, MCP_CONTAINER_NAME)).not.toContain(TOKEN_DIR);
  });
});

describe('Service session affinity', () => {
  it('keeps a client on one replica by default (2025 sessions live in one pod); None when the spec says so', () => {
    expect(buildService(input({})).spec?.sessionAffinity).toBe('ClientIP');
    expect(buildService(input({ sessionAffinity: 'None' })).spec?.sessionAffinity).toBe('None');
  });
});

describe('upstream headers', () => {
  it('mount the Secret keys into the agent only, one file per header', () => {
    const t = pod(
      input({ type: 'Remote', url: 'https://mcp.example.com/mcp', upstreamHeaders: [{ name: 'X-API-Key', secretKeyRef: { name: 'crm', key: 'key' } }] } as Partial<Spec>),
    );
    const v = t.spec!.volumes!.find((x) => x.name === 'ome-mcp-upstream-headers')!;
    expect(v.projected!.sources).toEqual([{ secret: { name: 'crm', items: [{ key: 'key', path: '0' }] } }]);
    expect(container(t, AGENT_CONTAINER_NAME)!.volumeMounts).toContainEqual({ name: 'ome-mcp-upstream-headers', mountPath: '/etc/ome-mcp-upstream-headers', readOnly: true });
  });
});

describe('upstream client credentials', () => {
  it('the client secret joins the agent-only credentials volume; the CA bundle is mounted and trusted by Node', () => {
    const t = pod(
      input({
        type: 'Remote',
        url: 'https://crm.example.com/mcp',
        volumes: [{ name: 'corp-ca', configMap: { name: 'corp-ca' } }],
        volumeMounts: [{ name: 'corp-ca', mountPath: '/etc/corp-ca' }],
        upstreamAuth: { clientCredentials: { issuer: 'https://idp.example.com', clientId: 'crm', clientSecretRef: { name: 'crm-oauth', key: 'secret' }, caBundlePath: '/etc/corp-ca/ca.pem' } },
      } as Partial<Spec>),
    );
    const v = t.spec!.volumes!.find((x) => x.name === 'ome-mcp-upstream-headers')!;
    expect(v.projected!.sources).toEqual([{ secret: { name: 'crm-oauth', items: [{ key: 'secret', path: 'client-secret' }] } }]);
    const agent = container(t, AGENT_CONTAINER_NAME)!;
    expect(agent.volumeMounts).toContainEqual({ name: 'corp-ca', mountPath: '/etc/corp-ca', readOnly: true });
    expect(agent.env).toContainEqual({ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/corp-ca/ca.pem' });
  });
});

describe('shared state key', () => {
  it('the agent reads the key (and the previous one) from the server Secret; a rotation shows in the pod template', () => {
    const stateKey = { secretName: 'mcp-fs-state', rotatedAt: '2026-12-01T00:00:00.000Z', hasPrevious: true };
    const t = pod({ ...input({}), stateKey });
    const env = container(t, AGENT_CONTAINER_NAME)!.env!;
    expect(env).toContainEqual({ name: 'OME_MCP_STATE_KEY', valueFrom: { secretKeyRef: { name: 'mcp-fs-state', key: 'key' } } });
    expect(env).toContainEqual({ name: 'OME_MCP_STATE_KEY_PREVIOUS', valueFrom: { secretKeyRef: { name: 'mcp-fs-state', key: 'previous' } } });
    expect(t.metadata!.annotations!['mcp.ome.io/state-key-rotated-at']).toBe(stateKey.rotatedAt);
    expect(container(t, MCP_CONTAINER_NAME)!.env ?? []).not.toContainEqual(expect.objectContaining({ name: 'OME_MCP_STATE_KEY' }));
  });
});
