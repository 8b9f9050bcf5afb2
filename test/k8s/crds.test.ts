// The generated CRDs on a real kube-apiserver: structural schema accepted, every CEL rule of
// api/v1beta1 accepts a valid object and rejects a violating one with its message, schema limits
// are enforced, every YAML example of OEP-0005 applies, and the printer columns are served.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { collectCelRules } from '../../api/validate.js';
import { ClusterMCPServer, MCPServer } from '../../api/v1beta1/mcpserver.js';
import { CATALOG_KINDS } from '../../api/v1beta1/catalog.js';
import { MCPGateway } from '../../api/v1beta1/mcpgateway.js';
import { ApiError, collectionPath, KubeClient } from '../../injector/reconciler/client.js';
import { ensureNamespace, installCRDs, kubeConfigFrom, randomSuffix } from './helpers.js';

type Json = Record<string, unknown>;
let client: KubeClient;
const ns = `crd-${randomSuffix()}`;

/** Server-side dry-run create: full validation (schema, defaults, CEL), nothing stored. */
async function dryRun(obj: Json): Promise<{ ok: true; object: Json } | { ok: false; status: number; message: string }> {
  const kind = obj.kind as string;
  const meta = (obj.metadata ?? {}) as Json;
  try {
    const object = await client.request<Json>('POST', collectionPath(kind, meta.namespace as string | undefined), { body: obj, query: { dryRun: 'All' } });
    return { ok: true, object };
  } catch (e) {
    if (e instanceof ApiError) return { ok: false, status: e.status, message: e.message };
    throw e;
  }
}

const mcp = (spec: Json, name = `t-${randomSuffix()}`): Json => ({ apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name, namespace: ns }, spec });
const cmcp = (spec: Json, name = `t-${randomSuffix()}`): Json => ({ apiVersion: 'ome.io/v1beta1', kind: 'ClusterMCPServer', metadata: { name }, spec });
const declared = (kind: 'MCPTool' | 'MCPPrompt' | 'MCPResource') => (spec: Json): Json => ({ apiVersion: 'ome.io/v1beta1', kind, metadata: { name: `t-${randomSuffix()}`, namespace: ns }, spec });
const tool = declared('MCPTool');
const prompt = declared('MCPPrompt');
const resource = declared('MCPResource');
const svc = { service: { name: 'api', port: 8080 } };
const mcpgw = (spec: Json): Json => ({ apiVersion: 'ome.io/v1beta1', kind: 'MCPGateway', metadata: { name: `t-${randomSuffix()}`, namespace: ns }, spec });
const idempotent = { annotations: { readOnlyHint: true, idempotentHint: true } };

beforeAll(async () => {
  client = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
  await installCRDs(client);
  await ensureNamespace(client, ns);
});

afterAll(async () => {
  await client?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
  client?.close();
});

interface CelCase {
  message: string;
  valid: Json;
  invalid: Json;
}

const CEL_CASES: CelCase[] = [
  { message: 'image is required for Hosted MCP servers', valid: mcp({ image: 'x/y:1' }), invalid: mcp({ type: 'Hosted' }) },
  { message: 'url is required for Remote MCP servers', valid: mcp({ type: 'Remote', url: 'https://a.example.com' }), invalid: mcp({ type: 'Remote', url: '' }) },
  {
    message: 'configMap is required for configMap OIDC configuration',
    valid: mcp({ image: 'i', oidcConfig: { type: 'configMap', configMap: { name: 'o' } } }),
    invalid: mcp({ image: 'i', oidcConfig: { type: 'configMap' } }),
  },
  {
    message: 'inline is required for inline OIDC configuration',
    valid: mcp({ image: 'i', oidcConfig: { type: 'inline', inline: { issuer: 'https://auth.example.com' } } }),
    invalid: mcp({ image: 'i', oidcConfig: { type: 'inline' } }),
  },
  {
    message: 'configMap is required for configMap authorization configuration',
    valid: mcp({ image: 'i', authzConfig: { type: 'configMap', configMap: { name: 'a' } } }),
    invalid: mcp({ image: 'i', authzConfig: {} }),
  },
  {
    message: 'inline is required for inline authorization configuration',
    valid: mcp({ image: 'i', authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource);'] } } }),
    invalid: mcp({ image: 'i', authzConfig: { type: 'inline' } }),
  },
  {
    message: 'name is required for builtin permission profiles',
    valid: mcp({ image: 'i', permissionProfile: { type: 'builtin', name: 'none' } }),
    invalid: mcp({ image: 'i', permissionProfile: { type: 'builtin' } }),
  },
  {
    message: 'configMap is required for configMap permission profiles',
    valid: mcp({ image: 'i', permissionProfile: { type: 'configMap', configMap: { name: 'p' } } }),
    invalid: mcp({ image: 'i', permissionProfile: { type: 'configMap' } }),
  },
  {
    message: 'inline is required for inline permission profiles',
    valid: mcp({ image: 'i', permissionProfile: { type: 'inline', inline: { write: ['/tmp'] } } }),
    invalid: mcp({ image: 'i', permissionProfile: { type: 'inline' } }),
  },
  {
    message: 'secretRef is required for ApiKey (a Secret key holding the hashed keys)',
    valid: mcp({ image: 'i', authentication: { methods: [{ type: 'ApiKey', secretRef: { name: 'k', key: 'keys.yaml' } }] } }),
    invalid: mcp({ image: 'i', authentication: { methods: [{ type: 'ApiKey' }] } }),
  },
  {
    message: 'secretRef is required for Basic (a Secret key holding the users and hashes)',
    valid: mcp({ image: 'i', authentication: { methods: [{ type: 'Basic', secretRef: { name: 'u', key: 'users.yaml' } }] } }),
    invalid: mcp({ image: 'i', authentication: { methods: [{ type: 'Basic' }] } }),
  },
  {
    message: 'caRef is required for ClientCertificate (the CA that signs client certificates)',
    valid: mcp({ image: 'i', authentication: { methods: [{ type: 'ClientCertificate', caRef: { name: 'ca' } }] } }),
    invalid: mcp({ image: 'i', authentication: { methods: [{ type: 'ClientCertificate' }] } }),
  },
  {
    message: 'exchange is required for identity mode exchange',
    valid: mcp({ image: 'i', identity: { mode: 'passthrough' } }),
    invalid: mcp({ image: 'i', identity: { mode: 'exchange' } }),
  },
  {
    message: 'a Catalog server needs toolSelector, promptSelector or resourceSelector',
    valid: mcp({ type: 'Catalog', promptSelector: { matchLabels: { a: 'b' } } }),
    invalid: mcp({ type: 'Catalog' }),
  },
  // ---- the declarative kinds
  { message: 'set exactly one of service and url', valid: tool({ target: svc }), invalid: tool({ target: { ...svc, url: 'http://x' } }) },
  {
    message: 'set exactly one of value and secretKeyRef',
    valid: tool({ target: { ...svc, headers: [{ name: 'A', secretKeyRef: { name: 's', key: 'k' } }] } }),
    invalid: tool({ target: { ...svc, headers: [{ name: 'A', value: 'v', secretKeyRef: { name: 's', key: 'k' } }] } }),
  },
  {
    message: 'cache needs annotations.readOnlyHint and annotations.idempotentHint',
    valid: tool({ ...idempotent, target: svc, cache: { ttl: '30s' } }),
    invalid: tool({ annotations: { readOnlyHint: true }, target: svc, cache: { ttl: '30s' } }),
  },
  {
    message: 'retries need annotations.idempotentHint',
    valid: tool({ ...idempotent, target: { ...svc, retries: 2 } }),
    invalid: tool({ target: { ...svc, retries: 2 } }),
  },
  { message: 'set exactly one of messages and template', valid: prompt({ template: 'hi' }), invalid: prompt({ template: 'hi', messages: [{ role: 'user', text: 'hi' }] }) },
  { message: 'set exactly one of uri and uriTemplate', valid: resource({ uri: 'x://a', text: 't' }), invalid: resource({ text: 't' }) },
  {
    message: 'set exactly one of text, configMapKeyRef, secretKeyRef and http',
    valid: resource({ uri: 'x://a', configMapKeyRef: { name: 'c', key: 'k' } }),
    invalid: resource({ uri: 'x://a', text: 't', secretKeyRef: { name: 's', key: 'k' } }),
  },
  // ---- MCPGateway
  { message: 'give serverSelector or backends', valid: mcpgw({ serverSelector: { matchLabels: { a: 'b' } } }), invalid: mcpgw({ backends: [] }) },
  { message: 'give exactly one of serverRef and url', valid: mcpgw({ backends: [{ serverRef: { name: 'a' } }] }), invalid: mcpgw({ backends: [{ name: 'a', serverRef: { name: 'a' }, url: 'http://x/mcp' }] }) },
  {
    message: 'namespace is for an MCPServer (a ClusterMCPServer has none)',
    valid: mcpgw({ backends: [{ serverRef: { name: 'a', namespace: 'other' } }, { serverRef: { kind: 'ClusterMCPServer', name: 'b' } }] }),
    invalid: mcpgw({ backends: [{ serverRef: { kind: 'ClusterMCPServer', name: 'b', namespace: 'other' } }] }),
  },
  {
    message: 'give at most one of ingress and httpRoute',
    valid: mcpgw({ serverSelector: {}, ingress: { host: 'mcp.example.com', tls: { secretName: 'mcp-tls' } } }),
    invalid: mcpgw({ serverSelector: {}, ingress: { host: 'mcp.example.com' }, httpRoute: { parentRefs: [{ name: 'gw' }] } }),
  },
  { message: 'a url backend needs a name', valid: mcpgw({ backends: [{ name: 'x', url: 'http://x/mcp' }] }), invalid: mcpgw({ backends: [{ url: 'http://x/mcp' }] }) },
  { message: 'a uriTemplate needs http content', valid: resource({ uriTemplate: 'x://a/{id}', http: { ...svc, path: '/a/{id}' } }), invalid: resource({ uriTemplate: 'x://a/{id}', text: 't' }) },
];

describe('CEL rules on the API server', () => {
  it('cover every rule declared in api/v1beta1', () => {
    const rules = [MCPServer, ClusterMCPServer, MCPGateway, ...Object.values(CATALOG_KINDS).map((k) => k.schema)].flatMap((s) => collectCelRules(s));
    expect(new Set(CEL_CASES.map((c) => c.message))).toEqual(new Set(rules.map((r) => r.message)));
  });

  for (const c of CEL_CASES) {
    it(`"${c.message}": accepts a valid object, rejects a violating one with the message`, async () => {
      const ok = await dryRun(c.valid);
      expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true });
      const bad = await dryRun(c.invalid);
      expect(bad.ok).toBe(false);
      if (!bad.ok) {
        expect(bad.status).toBe(422);
        expect(bad.message).toContain(c.message);
      }
    });
  }

  it('ClusterMCPServer carries the object-level rules too', async () => {
    expect(await dryRun(cmcp({ image: 'i' }))).toMatchObject({ ok: true });
    const bad = await dryRun(cmcp({ type: 'Remote' }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toContain('url is required for Remote MCP servers');
    const hosted = await dryRun(cmcp({}));
    if (!hosted.ok) expect(hosted.message).toContain('image is required for Hosted MCP servers');
    expect(hosted.ok).toBe(false);
  });
});

describe('schema', () => {
  it('applies the defaults of the API reference', async () => {
    const r = await dryRun(mcp({ image: 'i', capabilities: {}, protocol: {}, permissionProfile: { name: 'network' }, oidcConfig: { kubernetes: {} } }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.object.spec).toMatchObject({
        type: 'Hosted',
        transport: 'stdio',
        replicas: 1,
        port: 8080,
        targetPort: 8080,
        capabilities: { tools: true, resources: false, prompts: false },
        protocol: { name: 'JSON-RPC', version: '2.0' },
        permissionProfile: { type: 'builtin', name: 'network' },
        oidcConfig: { type: 'kubernetes', kubernetes: { issuer: 'https://kubernetes.default.svc', audience: 'toolhive', useClusterAuth: true } },
      });
    }
  });

  it.each([
    [{ image: 'i', replicas: 101 }, 'spec.replicas'],
    [{ image: 'i', port: 0 }, 'spec.port'],
    [{ image: 'i', targetPort: 70000 }, 'spec.targetPort'],
    [{ image: 'i', transport: 'grpc' }, 'spec.transport'],
    [{ type: 'Remote', url: 'ftp://x' }, 'spec.url'],
    [{ image: 'i', secrets: [{ name: '', key: 'k' }] }, 'spec.secrets[0].name'],
    [{ image: 'i', permissionProfile: { type: 'builtin', name: 'all' } }, 'spec.permissionProfile.name'],
    [{ image: 'i', resources: { requests: { cpu: 'lots' } } }, 'spec.resources.requests.cpu'],
    [{ image: 'i', authzConfig: { type: 'inline', inline: { policies: [] } } }, 'spec.authzConfig.inline.policies'],
    [{ image: 'i', tls: { secretName: 'Not_A_Name' } }, 'spec.tls.secretName'],
    [{ image: 'i', tls: {} }, 'spec.tls.secretName'],
  ])('rejects %j at %s', async (spec, field) => {
    const r = await dryRun(mcp(spec));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(field);
  });

  it('keeps core/v1 objects (affinity, volumes, podTemplateSpec) intact', async () => {
    const spec = {
      image: 'i',
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }] } } },
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }],
      podTemplateSpec: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'mcp', command: ['node', 's.js'] }] } },
    };
    const r = await dryRun(mcp(spec));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.object.spec).toMatchObject(spec);
  });
});

interface SeedExample {
  source: string;
  expect?: 'reject';
  message?: string;
  objects: Json[];
}

describe('OEP-0005 examples', () => {
  const examples = parse(readFileSync(fileURLToPath(new URL('./fixtures/seed-examples.yaml', import.meta.url)), 'utf8')) as SeedExample[];

  it('are all here', () => expect(examples.length).toBeGreaterThan(30));

  for (const ex of examples) {
    it(`${ex.source} ${ex.expect === 'reject' ? 'is rejected' : 'applies cleanly'}`, async () => {
      for (const obj of ex.objects) {
        const meta = (obj.metadata ?? {}) as Json;
        // This test's own namespace: another test file may be deleting the examples' namespaces
        // (a terminating namespace refuses creates with 403).
        if (obj.kind !== 'ClusterMCPServer') meta.namespace = ns;
        obj.metadata = meta;
        const r = await dryRun(obj);
        if (ex.expect === 'reject' && (obj.kind === 'MCPServer' || obj.kind === 'ClusterMCPServer')) {
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.message).toContain(ex.message);
        } else {
          expect(r, `${obj.kind} ${meta.name}`).toMatchObject({ ok: true });
        }
      }
    });
  }
});

describe('printer columns and discovery', () => {
  it('serves Status, URL and Age columns', async () => {
    const table = await client.request<{ columnDefinitions: { name: string }[] }>('GET', collectionPath('MCPServer', ns), {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const names = table.columnDefinitions.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['Name', 'Status', 'URL', 'Age']));
    const cluster = await client.request<{ columnDefinitions: { name: string }[] }>('GET', collectionPath('ClusterMCPServer'), {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    expect(cluster.columnDefinitions.map((c) => c.name)).toEqual(expect.arrayContaining(['Status', 'URL', 'Age']));
  });

  it('registers short names, scope and the status subresource', async () => {
    const res = await client.request<{ resources: { name: string; namespaced: boolean; shortNames?: string[] }[] }>('GET', '/apis/ome.io/v1beta1');
    const byName = Object.fromEntries(res.resources.map((r) => [r.name, r]));
    expect(byName.mcpservers).toMatchObject({ namespaced: true, shortNames: ['mcps'] });
    expect(byName.clustermcpservers).toMatchObject({ namespaced: false, shortNames: ['cmcps'] });
    expect(byName['mcpservers/status']).toBeDefined();
    expect(byName['clustermcpservers/status']).toBeDefined();
    expect(byName.mcpgateways).toMatchObject({ namespaced: true, shortNames: ['mcpgw'] });
    expect(byName['mcpgateways/status']).toBeDefined();
    expect(byName['mcpgateways/scale']).toBeDefined();
    for (const k of Object.values(CATALOG_KINDS)) {
      expect(byName[k.plural]).toMatchObject({ namespaced: true, shortNames: [...k.shortNames] });
      expect(byName[`${k.plural}/status`]).toBeDefined();
      expect(byName[`${k.plural}/scale`]).toBeUndefined();
    }
  });
});
