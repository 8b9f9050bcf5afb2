// Every manifest the project ships, rendered by the real kubectl (`kubectl kustomize`) and
// validated by the real API server: the kustomize base (`kubectl apply -k manifests/`) and the
// examples, each object sent as a server-side apply with
// dryRun=All (schema, CEL rules of the CRDs, RBAC and webhook configuration validation). The
// namespaces they use are created for real first (a dry-run object cannot live in a dry-run
// namespace), so are ServiceAccounts (a dry-run Pod needs its ServiceAccount), and the CRDs are installed (custom resources need their CRD served).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isConflict, KubeClient } from '../../injector/reconciler/client.js';
import { KUBECTL_PATH as KUBECTL } from './cluster.js';
import { eventually, installCRDs, kubeConfigFrom } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../manifests/', import.meta.url));
const client = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
const created: string[] = [];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

interface Kustomization {
  resources?: string[];
}


const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'CustomResourceDefinition', 'ClusterMCPServer', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Service: 'services',
  Pod: 'pods',
  Deployment: 'deployments',
  PodDisruptionBudget: 'poddisruptionbudgets',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  MCPServer: 'mcpservers',
  ClusterMCPServer: 'clustermcpservers',
  MCPTool: 'mcptools',
  MCPPrompt: 'mcpprompts',
  MCPResource: 'mcpresources',
  MCPGateway: 'mcpgateways',
};

function collection(o: Obj): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const plural = PLURALS[o.kind];
  if (!plural) throw new Error(`no plural known for ${o.kind}`);
  return CLUSTER_SCOPED.has(o.kind) ? `${base}/${plural}` : `${base}/namespaces/${o.metadata.namespace ?? 'default'}/${plural}`;
}

/**
 * Server-side apply with dryRun=All. ServiceAccounts are applied for real, like the namespaces:
 * a dry-run Pod is admitted only when the ServiceAccount it names exists (they go with their
 * namespaces in afterAll).
 */
async function dryRunApply(o: Obj): Promise<void> {
  await client.request('PATCH', `${collection(o)}/${o.metadata.name}`, {
    query: { ...(o.kind === 'ServiceAccount' ? {} : { dryRun: 'All' }), fieldManager: 'ome-mcp-manifest-test', force: true },
    body: o,
    contentType: 'application/apply-patch+yaml',
  });
}

async function createNamespaces(objs: Obj[]): Promise<void> {
  const wanted = new Set<string>();
  for (const o of objs) {
    if (o.kind === 'Namespace') wanted.add(o.metadata.name);
    else if (!CLUSTER_SCOPED.has(o.kind) && o.metadata.namespace) wanted.add(o.metadata.namespace);
  }
  for (const name of wanted) {
    try {
      await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
      created.push(name);
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  // A Pod is admitted only once its namespace's `default` ServiceAccount exists, which the
  // controller manager creates a moment after the namespace.
  for (const name of wanted) {
    await eventually(`ServiceAccount ${name}/default`, async () => (await client.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`), true), 30_000);
  }
}

/** `kubectl kustomize <dir>` with the kubectl built from the pinned module (test/k8s/build.sh). */
function render(dir: string): Obj[] {
  const out = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o);
}

const base = render(ROOT);
const examples = render(path.join(ROOT, 'examples'));

beforeAll(async () => {
  await installCRDs(client);
  await createNamespaces([...base, ...examples]);
}, 120_000);

afterAll(async () => {
  for (const ns of created) await client.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
  client.close();
});

describe('manifests', () => {
  it('kustomizations list every manifest file of their directories', () => {
    for (const [dir, sub] of [
      [ROOT, 'injector'],
      [ROOT, 'crds'],
      [path.join(ROOT, 'examples'), '.'],
      [path.join(ROOT, 'examples', 'runnable'), '.'],
    ] as const) {
      const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
      const files = readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').map((f) => path.posix.join(sub, f).replace(/^\.\//, ''));
      for (const f of files) expect(k.resources, `${dir}: ${f}`).toContain(f);
    }
  });

  it('the base has what `kubectl apply -k manifests/` must create', () => {
    const kinds = base.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const k of [
      'Namespace/ome-mcp-system',
      'CustomResourceDefinition/mcpservers.ome.io',
      'CustomResourceDefinition/clustermcpservers.ome.io',
      'ServiceAccount/ome-mcp-injector',
      'ClusterRole/ome-mcp-injector',
      'Role/ome-mcp-injector',
      'Deployment/ome-mcp-injector',
      'Service/ome-mcp-injector',
      'PodDisruptionBudget/ome-mcp-injector',
      'MutatingWebhookConfiguration/ome-mcp-injector',
      'ValidatingAdmissionPolicy/ome-mcp-attach-own-pod',
      'ValidatingAdmissionPolicy/ome-mcp-server-pod-security',
    ]) {
      expect(kinds).toContain(k);
    }
    const deploy = base.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } };
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.template.spec.containers[0]!.image).toBe('ome-mcp/injector:0.1.0');
  });

  it('every object of the base passes a server-side dry-run', async () => {
    for (const o of base) await expect(dryRunApply(o).then(() => 'ok'), `${o.kind}/${o.metadata.name}`).resolves.toBe('ok');
  });

  it('every example passes a server-side dry-run', async () => {
    expect(examples.filter((o) => o.kind === 'MCPServer' || o.kind === 'ClusterMCPServer').length).toBeGreaterThanOrEqual(10);
    // ServiceAccounts first: the Pods that name them are admitted only once they exist.
    const ordered = [...examples.filter((o) => o.kind === 'ServiceAccount'), ...examples.filter((o) => o.kind !== 'ServiceAccount')];
    for (const o of ordered) await expect(dryRunApply(o).then(() => 'ok'), `${o.kind}/${o.metadata.name}`).resolves.toBe('ok');
  });

  it('the API server rejects what the CRD forbids (the dry-run has teeth)', async () => {
    const bad: Obj = { apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name: 'bad', namespace: 'sales' }, spec: { type: 'Remote' } };
    await expect(dryRunApply(bad)).rejects.toThrow();
  });
});
