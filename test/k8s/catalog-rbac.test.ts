// The reconciler under the shipped RBAC (manifests/injector/rbac.yaml), not as cluster admin: the
// ClusterRole's and Role's rules, copied under names of this test, bound to a ServiceAccount whose
// token the reconciler runs with. A Catalog server with a Secret header and a ConfigMap resource
// must be served and every object's status written — so every verb the declarative objects need
// is granted (a missing one fails here with 403).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { CatalogItemStatus } from '../../api/v1beta1/catalog.js';
import { collectionPath, KubeClient, objectPath } from '../../injector/reconciler/client.js';
import { startReconciler, type Reconciler } from '../../injector/reconciler/index.js';
import { ensureNamespace, eventually, installCRDs, kubeConfigFrom, randomSuffix } from './helpers.js';

const suffix = randomSuffix();
const ns = `catrbac-${suffix}`;
const systemNs = `ome-mcp-rbac-${suffix}`;
const roleName = `ome-mcp-injector-${suffix}`;
let admin: KubeClient;
let reconciler: Reconciler;

type Rbac = { kind: string; rules?: unknown[] };
const shipped = parseAllDocuments(readFileSync(fileURLToPath(new URL('../../manifests/injector/rbac.yaml', import.meta.url)), 'utf8')).map((d) => d.toJS() as Rbac);
const rulesOf = (kind: string) => shipped.find((o) => o.kind === kind)!.rules!;

/** A kubeconfig for the ServiceAccount: the admin's cluster, the account's token. */
function asServiceAccount(token: string): KubeConfig {
  const base = kubeConfigFrom(inject('kubeconfig'));
  const cluster = base.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [{ name: 'sa', token }], contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }], currentContext: 'sa' });
  return kc;
}

beforeAll(async () => {
  admin = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
  await installCRDs(admin);
  await ensureNamespace(admin, ns);
  await ensureNamespace(admin, systemNs);
  const sa = { kind: 'ServiceAccount', name: 'injector', namespace: systemNs };
  await admin.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa.name, namespace: systemNs } });
  const rbac = (path: string, body: Record<string, unknown>) => admin.request('POST', path, { body: { apiVersion: 'rbac.authorization.k8s.io/v1', ...body } });
  await rbac('/apis/rbac.authorization.k8s.io/v1/clusterroles', { kind: 'ClusterRole', metadata: { name: roleName }, rules: rulesOf('ClusterRole') });
  await rbac('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { kind: 'ClusterRoleBinding', metadata: { name: roleName }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects: [sa] });
  await rbac(`/apis/rbac.authorization.k8s.io/v1/namespaces/${systemNs}/roles`, { kind: 'Role', metadata: { name: roleName, namespace: systemNs }, rules: rulesOf('Role') });
  await rbac(`/apis/rbac.authorization.k8s.io/v1/namespaces/${systemNs}/rolebindings`, { kind: 'RoleBinding', metadata: { name: roleName, namespace: systemNs }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName }, subjects: [sa] });
  const tr = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${systemNs}/serviceaccounts/${sa.name}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  reconciler = await startReconciler({
    kubeConfig: asServiceAccount(tr.status.token),
    namespace: systemNs,
    agentImage: 'example.com/ome-mcp-agent:test',
    // kwok pods' IPs are only data: an MCPGateway's agent is never asked.
    agentProbe: false,
    featureGates: 'MCPServerSupport=true',
    workers: 2,
    backoff: { baseDelayMs: 200, maxDelayMs: 2_000 },
    // The Lease of the shipped Role is named ome-mcp-reconciler.
    leaderElection: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
    logger: pino({ level: process.env.OME_MCP_TEST_LOG ?? 'silent' }),
  });
  await eventually('leadership', () => reconciler.isLeader(), 20_000);
});

afterAll(async () => {
  await reconciler?.stop();
  for (const p of [`/apis/rbac.authorization.k8s.io/v1/clusterroles/${roleName}`, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${roleName}`, `/api/v1/namespaces/${ns}`, `/api/v1/namespaces/${systemNs}`]) {
    await admin?.request('DELETE', p).catch(() => {});
  }
  admin?.close();
});

it('serves a catalog and writes the objects\' status with the shipped permissions only', async () => {
  const post = (kind: string, body: Record<string, unknown>) => admin.request('POST', collectionPath(kind, ns), { body: { apiVersion: kind.startsWith('MCP') ? 'ome.io/v1beta1' : 'v1', kind, ...body } });
  const labels = { catalog: 'rbac' };
  await post('Secret', { metadata: { name: 'api', namespace: ns }, stringData: { token: 'v' } });
  await post('ConfigMap', { metadata: { name: 'doc', namespace: ns }, data: { k: 'text' } });
  await post('MCPTool', { metadata: { name: 't', namespace: ns, labels }, spec: { target: { url: 'http://x.example', headers: [{ name: 'A', secretKeyRef: { name: 'api', key: 'token' } }] } } });
  await post('MCPResource', { metadata: { name: 'r', namespace: ns, labels }, spec: { uri: 'doc://r', configMapKeyRef: { name: 'doc', key: 'k' } } });
  await post('MCPServer', { metadata: { name: 'desk', namespace: ns }, spec: { type: 'Catalog', toolSelector: { matchLabels: labels } } });

  const cm = await eventually('agent.json with the catalog', async () => {
    const c = await admin.getOrUndefined<V1ConfigMap & { kind: string }>('ConfigMap', 'mcp-desk-agent', ns);
    const catalog = c && JSON.parse(c.data!['agent.json']!).catalog;
    // Both items in (an empty list is written while the MCPResource is not yet in the reconciler's cache).
    return catalog?.tools?.length && catalog.resources?.length ? catalog : undefined;
  });
  expect(cm.resources[0].text).toBe('text');
  const secret = await admin.get<V1Secret & { kind: string }>('Secret', 'mcp-desk-catalog', ns);
  expect(Object.keys(secret.data ?? {})).toHaveLength(1);
  for (const [kind, name] of [['MCPTool', 't'], ['MCPResource', 'r']]) {
    await eventually(`${kind} ${name} served`, async () => {
      const o = await admin.request<{ status?: CatalogItemStatus }>('GET', objectPath(kind!, name!, ns));
      return o.status?.conditions?.find((c) => c.type === 'Served')?.status === 'True';
    }, 30_000);
  }
  expect(reconciler.stats().errors).toBe(0);
});
