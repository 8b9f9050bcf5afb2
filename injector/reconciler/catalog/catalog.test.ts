import { describe, expect, it } from 'vitest';
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { CatalogKind } from '../../../api/v1beta1/catalog.js';
import type { Lookup } from '../resolve.js';
import { resolveItem, secretFileKey, targetURL, type CatalogItem } from './items.js';
import { resolveServerCatalog } from './resolve.js';
import { matches, serverSelectors } from './selectors.js';
import { Serving } from './serving.js';
import { deriveItemStatus, itemStatusEqual } from './status.js';

const NS = 'team';
let t = 0;
const obj = (kind: CatalogKind, name: string, spec: Record<string, unknown>, labels: Record<string, string> = { app: 'x' }): CatalogItem =>
  ({ apiVersion: 'ome.io/v1beta1', kind, metadata: { name, namespace: NS, labels, generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, t++)) }, spec }) as unknown as CatalogItem;

const lookup = (cms: Record<string, Record<string, string>> = {}, secrets: Record<string, Record<string, string>> = {}): Lookup => ({
  configMap: (_ns, name) => (cms[name] ? ({ data: cms[name] } as V1ConfigMap) : undefined),
  secret: (_ns, name) => (secrets[name] ? ({ data: Object.fromEntries(Object.entries(secrets[name]!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) } as V1Secret) : undefined),
});

const tool = (name: string, extra: Record<string, unknown> = {}, labels?: Record<string, string>) =>
  obj('MCPTool', name, { target: { service: { name: 'search', port: 8080 }, path: '/q/{query}', method: 'GET' }, inputSchema: { type: 'object', properties: { query: { type: 'string' } } }, ...extra }, labels);

describe('selectors', () => {
  it('default promptSelector and resourceSelector to toolSelector; no selector, no catalog', () => {
    const sel = { matchLabels: { app: 'x' } };
    expect(serverSelectors({ toolSelector: sel })).toEqual({ MCPTool: sel, MCPPrompt: sel, MCPResource: sel });
    expect(serverSelectors({ promptSelector: sel })).toEqual({ MCPPrompt: sel });
    expect(serverSelectors({})).toEqual({});
  });

  it('match labels and expressions as meta/v1 does', () => {
    const l = { app: 'x', tier: 'web' };
    expect(matches({}, l)).toBe(true);
    expect(matches({ matchLabels: { app: 'x' } }, l)).toBe(true);
    expect(matches({ matchLabels: { app: 'y' } }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'gone', operator: 'NotIn', values: ['web'] }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(matches({ matchLabels: { app: 'x' } }, undefined)).toBe(false);
  });
});

describe('resolveItem', () => {
  it('turns a Service target into its cluster URL, a Secret header into a catalog file, and names the source', async () => {
    const r = await resolveItem('MCPTool', tool('find', { target: { service: { name: 'search', port: 8080, scheme: 'https' }, path: '/q/{query}', method: 'GET', headers: [{ name: 'Authorization', prefix: 'Bearer ', secretKeyRef: { name: 'api', key: 'token' } }, { name: 'X-Team', value: 'a' }] } }), lookup({}, { api: { token: 's3cret' } }), 'cluster.local');
    expect(r.problems).toEqual([]);
    expect(r.form).toMatchObject({
      name: 'find',
      source: 'team/find',
      http: {
        url: 'https://search.team.svc.cluster.local:8080/q/{query}',
        method: 'GET',
        retries: 0,
        response: 'auto',
        headers: [{ name: 'Authorization', prefix: 'Bearer ', file: `/etc/ome-mcp-catalog/${secretFileKey('api', 'token')}` }, { name: 'X-Team', value: 'a' }],
      },
    });
    expect(r.secrets).toEqual([{ file: secretFileKey('api', 'token'), namespace: NS, name: 'api', key: 'token' }]);
    expect(JSON.stringify(r)).not.toContain('s3cret');
  });

  it('joins a URL target and its path with one slash', () => {
    expect(targetURL({ url: 'http://h.example:81/', path: '/a' }, NS, 'c.l')).toBe('http://h.example:81/a');
    expect(targetURL({ url: 'http://h.example:81/base' }, NS, 'c.l')).toBe('http://h.example:81/base');
  });

  it('reports a missing Secret (key) and ConfigMap (key) with clear messages', async () => {
    const h = await resolveItem('MCPTool', tool('t', { target: { url: 'http://x', headers: [{ name: 'A', secretKeyRef: { name: 'nope', key: 'k' } }] } }), lookup(), 'cluster.local');
    expect(h.form).toBeUndefined();
    expect(h.problems).toEqual([{ reason: 'MissingSecret', message: 'spec.target.headers[0].secretKeyRef: Secret team/nope not found' }]);
    const cm = await resolveItem('MCPResource', obj('MCPResource', 'r', { uri: 'config://a', configMapKeyRef: { name: 'cfg', key: 'a.txt' } }), lookup(), 'cluster.local');
    expect(cm.problems).toEqual([{ reason: 'MissingConfigMap', message: 'spec.configMapKeyRef: ConfigMap team/cfg not found' }]);
    const key = await resolveItem('MCPResource', obj('MCPResource', 'r', { uri: 'config://a', configMapKeyRef: { name: 'cfg', key: 'a.txt' } }), lookup({ cfg: {} }), 'cluster.local');
    expect(key.problems[0]!.message).toBe('spec.configMapKeyRef: ConfigMap team/cfg has no key "a.txt"');
  });

  it('inlines a ConfigMap resource and refers to a Secret resource by file', async () => {
    const cm = await resolveItem('MCPResource', obj('MCPResource', 'settings', { uri: 'config://app/settings', configMapKeyRef: { name: 'cfg', key: 's.json' }, mimeType: 'application/json' }), lookup({ cfg: { 's.json': '{"a":1}' } }), 'cluster.local');
    expect(cm.form).toEqual({ uri: 'config://app/settings', name: 'settings', mimeType: 'application/json', text: '{"a":1}', source: 'team/settings' });
    expect(cm.references).toEqual([{ kind: 'ConfigMap', namespace: NS, name: 'cfg' }]);
    const s = await resolveItem('MCPResource', obj('MCPResource', 'key', { uri: 'secret://k', secretKeyRef: { name: 'api', key: 'token' } }), lookup({}, { api: { token: 'v' } }), 'cluster.local');
    expect(s.form).toMatchObject({ uri: 'secret://k', mimeType: 'text/plain', file: `/etc/ome-mcp-catalog/${secretFileKey('api', 'token')}` });
  });

  it('makes a prompt template one user message, and reports a bad template at spec.template', async () => {
    const ok = await resolveItem('MCPPrompt', obj('MCPPrompt', 'review', { arguments: [{ name: 'code' }], template: 'Review {{code}}' }), lookup(), 'cluster.local');
    expect(ok.form).toMatchObject({ name: 'review', messages: [{ role: 'user', text: 'Review {{code}}' }] });
    const bad = await resolveItem('MCPPrompt', obj('MCPPrompt', 'review', { arguments: [{ name: 'code' }], template: 'Review {{lang}} {{code' }), lookup(), 'cluster.local');
    expect(bad.form).toBeUndefined();
    expect(bad.problems).toEqual([{ reason: 'InvalidSpec', message: expect.stringMatching(/^spec\.template: unclosed "\{\{"/) }]);
    const undeclared = await resolveItem('MCPPrompt', obj('MCPPrompt', 'p', { template: 'Hi {{who}}' }), lookup(), 'cluster.local');
    expect(undeclared.problems[0]!.message).toBe('spec.template: {{who}} is not a declared argument (none declared)');
  });

  it('reports a tool path placeholder that is not an argument at spec.target.path', async () => {
    const r = await resolveItem('MCPTool', tool('t', { target: { url: 'http://x', path: '/a/{nope}' } }), lookup(), 'cluster.local');
    expect(r.problems).toEqual([{ reason: 'InvalidSpec', message: 'spec.target.path: {nope} is not a declared argument (query)' }]);
  });

  it('turns a spec the API server would refuse into a problem, not a throw', async () => {
    const r = await resolveItem('MCPTool', obj('MCPTool', 't', {}), lookup(), 'cluster.local');
    expect(r.form).toBeUndefined();
    expect(r.problems[0]!.reason).toBe('InvalidSpec');
  });
});

describe('resolveServerCatalog', () => {
  it('serves the selected valid objects, leaves invalid ones out, and lets the oldest keep a name', async () => {
    const items: CatalogItem[] = [
      tool('a-old', { name: 'search' }),
      tool('b-new', { name: 'search' }),
      tool('other', {}, { app: 'y' }),
      obj('MCPPrompt', 'bad', { template: '{{x' }),
      obj('MCPResource', 'r', { uri: 'config://r', text: 'hello' }),
    ];
    const c = await resolveServerCatalog(serverSelectors({ toolSelector: { matchLabels: { app: 'x' } } }), NS, (kind) => items.filter((o) => o.kind === kind), lookup(), 'cluster.local');
    expect(c.catalog.tools?.map((t) => t.source)).toEqual(['team/a-old']);
    expect(c.catalog.prompts).toEqual([]); // selected (by toolSelector) with nothing valid: declared, empty
    expect(c.catalog.resources?.map((r) => r.uri)).toEqual(['config://r']);
    expect(Object.fromEntries(c.verdicts)).toEqual({
      'MCPTool/team/a-old': { served: true },
      'MCPTool/team/b-new': { served: false, reason: 'NameConflict', winner: 'team/a-old' },
      'MCPPrompt/team/bad': { served: false, reason: 'Invalid' },
      'MCPResource/team/r': { served: true },
    });
  });

  it('collects each Secret key once', async () => {
    const h = { headers: [{ name: 'A', secretKeyRef: { name: 's', key: 'k' } }] };
    const items = [tool('one', { target: { url: 'http://x', ...h } }), tool('two', { target: { url: 'http://y', ...h } })];
    const c = await resolveServerCatalog({ MCPTool: {} }, NS, (kind) => items.filter((o) => o.kind === kind), lookup({}, { s: { k: 'v' } }), 'cluster.local');
    expect(c.catalog.tools).toHaveLength(2);
    expect(c.secrets).toEqual([{ file: secretFileKey('s', 'k'), namespace: NS, name: 's', key: 'k' }]);
  });
});

describe('Serving', () => {
  it('reports the objects whose verdict changed and forgets a server', () => {
    const s = new Serving();
    expect(s.set('MCPServer/team/a', new Map([['MCPTool/team/t', { served: true }]]))).toEqual(['MCPTool/team/t']);
    expect(s.set('MCPServer/team/a', new Map([['MCPTool/team/t', { served: true }]]))).toEqual([]);
    s.set('MCPServer/team/b', new Map([['MCPTool/team/t', { served: false, reason: 'NameConflict', winner: 'team/o' }]]));
    expect(s.of('MCPTool/team/t').map((v) => v.server)).toEqual(['MCPServer/team/a', 'MCPServer/team/b']);
    expect(s.set('MCPServer/team/a', new Map())).toEqual(['MCPTool/team/t']);
    expect(s.of('MCPTool/team/t').map((v) => v.server)).toEqual(['MCPServer/team/b']);
  });
});

describe('deriveItemStatus', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-01-01T01:00:00Z');
  it('Valid and Served with the servers, ClusterMCPServers without a namespace', () => {
    const s = deriveItemStatus({ generation: 3, problems: [], verdicts: [{ server: 'MCPServer/team/a', verdict: { served: true } }, { server: 'ClusterMCPServer//c', verdict: { served: true } }], now });
    expect(s.observedGeneration).toBe(3);
    expect(s.servers).toEqual([{ kind: 'MCPServer', namespace: 'team', name: 'a' }, { kind: 'ClusterMCPServer', name: 'c' }]);
    expect(s.conditions).toMatchObject([{ type: 'Valid', status: 'True' }, { type: 'Served', status: 'True', reason: 'Served', message: 'served by MCPServer team/a, ClusterMCPServer c' }]);
  });

  it('Valid=False with the problems, NoServer, NameConflict; transition times kept while the status stays', () => {
    const invalid = deriveItemStatus({ generation: 1, problems: [{ reason: 'MissingConfigMap', message: 'spec.configMapKeyRef: ConfigMap team/c not found' }], verdicts: [], now });
    expect(invalid.conditions).toMatchObject([{ type: 'Valid', status: 'False', reason: 'MissingConfigMap', message: 'spec.configMapKeyRef: ConfigMap team/c not found' }, { type: 'Served', status: 'False', reason: 'Invalid' }]);
    const none = deriveItemStatus({ generation: 1, problems: [], verdicts: [], previous: invalid, now: later });
    expect(none.conditions![1]).toMatchObject({ reason: 'NoServer', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(none.conditions![0]!.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
    const conflict = deriveItemStatus({ generation: 1, problems: [], verdicts: [{ server: 'MCPServer/team/a', verdict: { served: false, reason: 'NameConflict', winner: 'team/old' } }], now });
    expect(conflict.conditions![1]).toMatchObject({ status: 'False', reason: 'NameConflict', message: 'not served: MCPServer team/a serves team/old under the same name' });
    expect(conflict.servers).toEqual([]);
    expect(itemStatusEqual(none, deriveItemStatus({ generation: 1, problems: [], verdicts: [], previous: none, now: later }))).toBe(true);
    expect(itemStatusEqual(none, conflict)).toBe(false);
  });
});

describe('manifests/examples/20-declarative.yaml', () => {
  it('resolves every declared object without a problem', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseAllDocuments } = await import('yaml');
    const docs = parseAllDocuments(readFileSync(new URL('../../../manifests/examples/20-declarative.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as CatalogItem & { data?: Record<string, string>; stringData?: Record<string, string> });
    const of = (kind: string) => docs.filter((d) => d.kind === kind);
    const look: Lookup = {
      configMap: (_ns, name) => of('ConfigMap').find((c) => c.metadata.name === name) as V1ConfigMap | undefined,
      secret: (_ns, name) => of('Secret').find((c) => c.metadata.name === name) as V1Secret | undefined,
    };
    const server = of('MCPServer')[0] as unknown as { spec: Parameters<typeof serverSelectors>[0] };
    const c = await resolveServerCatalog(serverSelectors(server.spec), 'support', (kind) => of(kind), look, 'cluster.local');
    expect([...c.verdicts.values()].every((v) => v.served)).toBe(true);
    expect([c.catalog.tools?.length, c.catalog.prompts?.length, c.catalog.resources?.length]).toEqual([1, 1, 1]);
  });
});
