import { beforeAll, describe, expect, it } from 'vitest';
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { Value } from 'typebox/value';
import { MCPServerSpec, type MCPServerSpec as Spec } from '../../api/v1beta1/mcpserver.js';
import { generateTls, type TlsMaterial } from '../webhook/tls.js';
import { resolve, type Lookup } from './resolve.js';

const ref = { kind: 'MCPServer' as const, name: 'db', namespace: 'ds' };
const spec = (s: Partial<Spec>): Spec => Value.Default(MCPServerSpec, structuredClone({ image: 'x', ...s })) as Spec;

function lookup(cms: Record<string, Record<string, string>> = {}, secrets: Record<string, Record<string, string>> = {}): Lookup {
  return {
    configMap: (ns, name) => (cms[`${ns}/${name}`] ? ({ metadata: { name, namespace: ns }, data: cms[`${ns}/${name}`] } as V1ConfigMap) : undefined),
    secret: (ns, name) => (secrets[`${ns}/${name}`] ? ({ metadata: { name, namespace: ns }, data: secrets[`${ns}/${name}`] } as V1Secret) : undefined),
  };
}

describe('resolve: spec.tls', () => {
  let pair: TlsMaterial;
  let other: TlsMaterial;
  beforeAll(async () => {
    pair = await generateTls({ dnsNames: ['mcp-db.ds.svc'] });
    other = await generateTls({ dnsNames: ['mcp-db.ds.svc'] });
  });
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('a usable Secret: the agent serves its certificate from the mount, the resource URL says https', async () => {
    const r = await resolve(ref, spec({ tls: { secretName: 'db-tls' } }), lookup({}, { 'ds/db-tls': { 'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key) } }));
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.tls).toEqual({ certFile: '/etc/ome-mcp-tls/tls.crt', keyFile: '/etc/ome-mcp-tls/tls.key' });
    expect(r.agentConfig?.resourceURL).toBe('https://mcp-db.ds.svc.cluster.local:8080/mcp');
    expect(r.references).toContainEqual({ kind: 'Secret', namespace: 'ds', name: 'db-tls' });
  });

  it('a missing Secret, a missing key, or a key of another certificate is a problem, not a failing pod', async () => {
    const s = spec({ tls: { secretName: 'db-tls' } });
    expect((await resolve(ref, s, lookup())).problems).toEqual(['spec.tls.secretName: Secret ds/db-tls not found']);
    const noKey = await resolve(ref, s, lookup({}, { 'ds/db-tls': { 'tls.crt': b64(pair.cert) } }));
    expect(noKey.problems).toEqual(['spec.tls.secretName: Secret ds/db-tls has no key "tls.key" (a kubernetes.io/tls Secret holds tls.crt and tls.key)']);
    const mismatch = await resolve(ref, s, lookup({}, { 'ds/db-tls': { 'tls.crt': b64(pair.cert), 'tls.key': b64(other.key) } }));
    expect(mismatch.problems).toEqual([expect.stringMatching(/^spec\.tls\.secretName: Secret ds\/db-tls: tls\.key is not the PEM private key of the certificate/)]);
    const notPem = await resolve(ref, s, lookup({}, { 'ds/db-tls': { 'tls.crt': b64('junk'), 'tls.key': b64(pair.key) } }));
    expect(notPem.problems).toEqual([expect.stringMatching(/tls\.crt holds no PEM certificate/)]);
    expect(mismatch.agentConfig).toBeUndefined();
  });
});

describe('resolve', () => {
  it('produces an agent config with upstream, resource URL and the spec policy fields', async () => {
    const r = await resolve(ref, spec({ toolsFilter: ['query'], capabilities: { tools: true }, oidcConfig: { type: 'kubernetes' } }), lookup());
    expect(r.problems).toEqual([]);
    expect(r.agentConfig).toMatchObject({
      name: 'db',
      namespace: 'ds',
      upstream: { transport: 'stdio' },
      resourceURL: 'http://mcp-db.ds.svc.cluster.local:8080/mcp',
      toolsFilter: ['query'],
      capabilities: { tools: true, resources: false, prompts: false },
      oidcConfig: { type: 'kubernetes', kubernetes: { namespace: 'ds', issuer: 'https://kubernetes.default.svc' } },
    });
  });

  it('reports missing Secrets and keys', async () => {
    const s = spec({ secrets: [{ name: 'pg', key: 'url' }, { name: 'other', key: 'k' }] });
    const r = await resolve(ref, s, lookup({}, { 'ds/pg': { user: 'eA==' } }));
    expect(r.problems).toEqual(['spec.secrets[0]: Secret ds/pg has no key "url"', 'spec.secrets[1]: Secret ds/other not found']);
    expect(r.agentConfig).toBeUndefined();
  });

  it('inlines ConfigMap OIDC and reports one without issuer', async () => {
    const s = spec({ oidcConfig: { type: 'configMap', configMap: { name: 'oidc' } } });
    const ok = await resolve(ref, s, lookup({ 'ds/oidc': { 'oidc.json': '{"issuer":"https://auth.example.com","audience":"a"}' } }));
    expect(ok.agentConfig?.oidcConfig).toEqual({ type: 'inline', inline: { issuer: 'https://auth.example.com', audience: 'a', jwksAllowPrivateIP: false } });
    const bad = await resolve(ref, s, lookup({ 'ds/oidc': { 'oidc.json': '{"audience":"a"}' } }));
    expect(bad.problems).toEqual(['spec.oidcConfig.configMap(oidc).issuer: is required']);
    const missing = await resolve(ref, s, lookup());
    expect(missing.problems).toEqual(['spec.oidcConfig.configMap: ConfigMap ds/oidc not found']);
    expect(missing.references).toContainEqual({ kind: 'ConfigMap', namespace: 'ds', name: 'oidc' });
  });

  it('parses Cedar policies and entities with cedar-wasm', async () => {
    const good = await resolve(ref, spec({ authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource);'] } } }), lookup());
    expect(good.problems).toEqual([]);
    expect(good.agentConfig?.authzConfig).toEqual({ type: 'inline', inline: { policies: ['permit(principal, action, resource);'], entitiesJSON: '[]' } });
    const bad = await resolve(ref, spec({ authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action'], entitiesJSON: '[{"uid":{}}]' } } }), lookup());
    expect(bad.problems[0]).toMatch(/^spec\.authzConfig\.inline\.policies\[0\]: invalid Cedar policy: /);
    expect(bad.problems[1]).toMatch(/^spec\.authzConfig\.inline\.entitiesJSON: invalid Cedar entities: /);
  });

  it('reads Cedar from a ConfigMap', async () => {
    const s = spec({ authzConfig: { type: 'configMap', configMap: { name: 'authz' } } });
    const r = await resolve(ref, s, lookup({ 'ds/authz': { 'authz.json': JSON.stringify({ policies: ['forbid(principal, action, resource);'] }) } }));
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.authzConfig?.inline?.policies).toEqual(['forbid(principal, action, resource);']);
  });

  it('reads Cedar text from a .cedar key', async () => {
    const s = spec({ authzConfig: { type: 'configMap', configMap: { name: 'authz', key: 'policy.cedar' } } });
    const r = await resolve(ref, s, lookup({ 'ds/authz': { 'policy.cedar': 'permit(principal, action, resource);\nforbid(principal, action, resource) when { false };' } }));
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.authzConfig?.inline?.policies).toHaveLength(1);
  });

  it('resolves permission profiles: builtin, inline and ConfigMap', async () => {
    expect((await resolve(ref, spec({ permissionProfile: { type: 'builtin', name: 'none' } }), lookup())).permissions?.network?.outbound?.insecureAllowAll).toBe(false);
    const cm = await resolve(
      ref,
      spec({ permissionProfile: { type: 'configMap', configMap: { name: 'perm', key: 'policy.json' } } }),
      lookup({ 'ds/perm': { 'policy.json': '{"write":["/tmp"],"network":{"outbound":{"allowPort":[443]}}}' } }),
    );
    expect(cm.permissions).toMatchObject({ write: ['/tmp'], network: { outbound: { allowPort: [443], insecureAllowAll: false } } });
    const bad = await resolve(ref, spec({ permissionProfile: { type: 'configMap', configMap: { name: 'perm' } } }), lookup({ 'ds/perm': { 'permissions.json': '{"write":"x"}' } }));
    expect(bad.problems).toEqual(['spec.permissionProfile.configMap(perm).write: must be array']);
  });

  it('Remote: upstream is the URL, a stdio transport means streamable HTTP', async () => {
    const r = await resolve(ref, spec({ type: 'Remote', url: 'https://crm.example.com/mcp', image: undefined }), lookup());
    expect(r.agentConfig?.upstream).toEqual({ transport: 'streamable-http', url: 'https://crm.example.com/mcp' });
  });

  it('Catalog: no upstream, catalogOnly, the catalog given; upstream settings are problems', async () => {
    const catalog = { prompts: [{ name: 'p', messages: [{ role: 'user' as const, text: 'hi' }] }] };
    const r = await resolve(ref, spec({ type: 'Catalog', image: undefined, toolSelector: {} }), lookup(), { catalog });
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.upstream).toBeUndefined();
    expect(r.agentConfig).toMatchObject({ catalogOnly: true, catalog });
    const bad = await resolve(ref, spec({ type: 'Catalog', image: undefined, upstreamAuth: { clientCredentials: { issuer: 'https://a', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } } } } as Partial<Spec>), lookup({}, { 'ds/s': { k: 'dg==' } }));
    expect(bad.problems).toContain('spec.upstreamAuth: a Catalog server has no MCP server behind the agent');
  });

  it('reports an inline OIDC issuer that is not https', async () => {
    const r = await resolve(ref, spec({ oidcConfig: { type: 'inline', inline: { issuer: 'http://auth.example.com' } } }), lookup());
    expect(r.problems).toEqual(['spec.oidcConfig.inline.issuer: must be an https URL']);
  });
});

describe('Kubernetes service-account tokens: whose', () => {
  const k8s = (kubernetes: Record<string, unknown> = {}) => spec({ oidcConfig: { type: 'kubernetes', kubernetes } });
  it('an MCPServer accepts its own namespace; a ClusterMCPServer any; an explicit list wins', async () => {
    expect((await resolve(ref, k8s(), lookup())).agentConfig?.oidcConfig?.kubernetes).toMatchObject({ namespace: 'ds' });
    const cluster = { kind: 'ClusterMCPServer' as const, name: 'shared', namespace: 'ome-mcp-system' };
    const c = (await resolve(cluster, k8s(), lookup())).agentConfig?.oidcConfig?.kubernetes;
    expect(c?.namespaces).toEqual(['*']);
    expect(c?.namespace).toBeUndefined();
    expect((await resolve(cluster, k8s({ namespaces: ['team-a', 'team-b'] }), lookup())).agentConfig?.oidcConfig?.kubernetes?.namespaces).toEqual(['team-a', 'team-b']);
    expect((await resolve(cluster, k8s({ namespace: 'team-a' }), lookup())).agentConfig?.oidcConfig?.kubernetes).toMatchObject({ namespace: 'team-a' });
  });
});

describe('operational settings', () => {
  it('reach the agent config: readOnly, limits, audit, and session in the agent’s runtime names', async () => {
    const r = await resolve(
      ref,
      spec({ readOnly: true, limits: { requestTimeout: '5s', perPrincipal: { requestsPerMinute: 10 } }, audit: { includeArguments: true }, transport: 'streamable-http', session: { mode: 'per-session', idleTimeout: '2m', maxProcesses: 4 } } as Partial<Spec>),
      lookup(),
    );
    expect(r.problems).toEqual([]);
    expect(r.agentConfig).toMatchObject({
      readOnly: true,
      limits: { requestTimeout: '5s', maxConcurrentRequests: 100, perPrincipal: { requestsPerMinute: 10 } },
      audit: { enabled: true, includeArguments: true },
      sessionMode: 'per-session',
      sessionIdleTimeout: 120,
      maxProcesses: 4,
    });
  });
});

describe('replicas', () => {
  it('refuse a per-session server on several replicas without session affinity', async () => {
    const r = await resolve(ref, spec({ replicas: 2, transport: 'streamable-http', session: { mode: 'per-session' }, sessionAffinity: 'None' } as Partial<Spec>), lookup());
    expect(r.problems).toEqual(['spec.sessionAffinity: a per-session server keeps per-client state; with replicas > 1 it needs ClientIP']);
    expect((await resolve(ref, spec({ replicas: 2, transport: 'streamable-http', session: { mode: 'per-session' } } as Partial<Spec>), lookup())).problems).toEqual([]);
  });

  it('refuse per-session for a Hosted stdio server (one process in its own container), which would crash-loop the agent', async () => {
    const r = await resolve(ref, spec({ session: { mode: 'per-session' } } as Partial<Spec>), lookup());
    expect(r.problems).toEqual([expect.stringMatching(/^spec.session.mode: per-session needs an upstream session per client/)]);
    expect((await resolve(ref, spec({ replicas: 2, sessionAffinity: 'None' } as Partial<Spec>), lookup())).problems).toEqual([]);
  });
});

describe('upstream headers', () => {
  const remote = { type: 'Remote', url: 'https://mcp.example.com/mcp', upstreamHeaders: [{ name: 'Authorization', prefix: 'Bearer ', secretKeyRef: { name: 'crm', key: 'token' } }] } as Partial<Spec>;
  it('name files for the agent (never the value), once the Secret key exists', async () => {
    const r = await resolve(ref, spec(remote), lookup({}, { 'ds/crm': { token: 'c2VjcmV0' } }));
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.upstream).toEqual({ transport: 'streamable-http', url: 'https://mcp.example.com/mcp', headers: [{ name: 'Authorization', file: '/etc/ome-mcp-upstream-headers/0', prefix: 'Bearer ' }] });
    expect(JSON.stringify(r.agentConfig)).not.toContain('c2VjcmV0');
  });
  it('a missing Secret, or a stdio upstream, is a problem', async () => {
    expect((await resolve(ref, spec(remote), lookup())).problems.join()).toMatch(/spec\.upstreamHeaders\[0\]\.secretKeyRef/);
    const stdio = await resolve(ref, spec({ upstreamHeaders: remote.upstreamHeaders } as Partial<Spec>), lookup({}, { 'ds/crm': { token: 'x' } }));
    expect(stdio.problems).toContain('spec.upstreamHeaders: only an HTTP or Remote upstream takes headers');
  });
});

describe('identity', () => {
  const oidc = { type: 'inline', inline: { issuer: 'https://idp.example.com' } };
  const exchange = { clientId: 'agent', clientSecretRef: { name: 'x', key: 'secret' }, audience: 'https://k8s.example.com' };
  it('reaches the agent config with the exchange secret by its mounted file', async () => {
    const r = await resolve(
      ref,
      spec({ transport: 'streamable-http', oidcConfig: oidc, session: { mode: 'per-session' }, identity: { mode: 'exchange', exchange } } as Partial<Spec>),
      lookup({}, { 'ds/x': { secret: 'c2VjcmV0' } }),
    );
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.identity).toEqual({ mode: 'exchange', exchange: { clientId: 'agent', audience: 'https://k8s.example.com', clientSecretFile: '/etc/ome-mcp-upstream-headers/identity-client-secret' } });
  });
  it('needs oidcConfig, per-session and an HTTP server', async () => {
    const r = await resolve(ref, spec({ identity: { mode: 'passthrough' } } as Partial<Spec>), lookup());
    expect(r.problems.filter((p) => p.startsWith('spec.identity')).map((p) => p.split(' (')[0])).toEqual([
      'spec.identity: needs oidcConfig',
      'spec.identity: needs spec.session.mode per-session',
      'spec.identity: a Hosted stdio server runs as one process in its own container; use an HTTP or Remote server',
    ]);
  });
});

describe('egress: the agent proxy for a restricted profile, read and write paths', () => {
  const outbound = (o: object) => ({ permissionProfile: { type: 'inline' as const, inline: { network: { outbound: o } } } });
  it('a restricted Hosted server gets the egress section (port 3128, moved off the server ports); open or Remote ones none', async () => {
    const r = await resolve(ref, spec(outbound({ allowHost: ['api.github.com', '10.0.0.0/8'], allowPort: [443] })), lookup());
    expect(r.problems).toEqual([]);
    expect(r.agentConfig?.egress).toEqual({ port: 3128, allowHost: ['api.github.com', '10.0.0.0/8'], allowPort: [443] });
    const none = await resolve(ref, spec({ permissionProfile: { type: 'builtin', name: 'none' } }), lookup());
    expect(none.agentConfig?.egress).toEqual({ port: 3128, allowHost: [], allowPort: [] });
    const busy = await resolve(ref, spec({ ...outbound({ allowPort: [443] }), transport: 'streamable-http', targetPort: 3128 }), lookup());
    expect(busy.agentConfig?.egress?.port).toBe(3129);
    for (const open of [{}, { permissionProfile: { type: 'builtin' as const, name: 'network' as const } }, { type: 'Remote' as const, url: 'https://crm.example.com/mcp', ...outbound({ allowPort: [443] }) }]) {
      expect((await resolve(ref, spec(open), lookup())).agentConfig?.egress).toBeUndefined();
    }
  });

  it('names an allowHost entry the proxy could not match, by its place in the profile', async () => {
    const r = await resolve(ref, spec(outbound({ allowHost: ['ok.example.com', 'https://api.github.com'] })), lookup());
    expect(r.problems).toEqual(['spec.permissionProfile.inline.network.outbound.allowHost[1]: "https://api.github.com" is neither a host name, a .domain or *.domain wildcard, nor an IP or CIDR']);
    const cm = await resolve(ref, spec({ permissionProfile: { type: 'configMap', configMap: { name: 'perm' } } }), lookup({ 'ds/perm': { 'permissions.json': '{"network":{"outbound":{"allowHost":["a b"]}}}' } }));
    expect(cm.problems).toEqual([expect.stringMatching(/^spec\.permissionProfile\.configMap\(perm\)\.network\.outbound\.allowHost\[0\]: "a b" is neither/)]);
  });

  it('reads the API server addresses only for a restricted profile', async () => {
    let asked = 0;
    const withApi: Lookup = { ...lookup(), apiServer: async () => (asked++, { service: { address: '10.96.0.1', port: 443 }, endpoints: [] }) };
    expect((await resolve(ref, spec({}), withApi)).apiServer).toBeUndefined();
    expect(asked).toBe(0);
    expect((await resolve(ref, spec(outbound({})), withApi)).apiServer).toEqual({ service: { address: '10.96.0.1', port: 443 }, endpoints: [] });
  });

  it('read and write paths must be absolute, and a path is not both', async () => {
    const r = await resolve(ref, spec({ permissionProfile: { type: 'inline', inline: { read: ['data', '/tmp'], write: ['/tmp', 'x'] } } }), lookup());
    expect(r.problems).toEqual([
      'spec.permissionProfile.read[0]: "data" is not an absolute path',
      'spec.permissionProfile.read[1]: /tmp is also a write path',
      'spec.permissionProfile.write[1]: "x" is not an absolute path',
    ]);
  });
});
