// The admission policies of manifests/injector/admission-policies.yaml on a real kube-apiserver
// (CEL, built in): an MCPServer whose podTemplateSpec weakens the pod, or that names a service
// account the namespace does not allow, is refused with a message that says why; a valid one
// passes; an administrator's exception label on the namespace lifts the rule. The attach policy
// is proven on the real node (test/e2e/security.test.ts).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ApiError, collectionPath, KubeClient } from '../../injector/reconciler/client.js';
import { KUBECTL_PATH } from './cluster.js';
import { eventually, installCRDs, kubeConfigFrom, randomSuffix } from './helpers.js';

type Json = Record<string, any>;
const ROOT = fileURLToPath(new URL('../../manifests/', import.meta.url));
const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDING = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const policies = (parseAllDocuments(execFileSync(KUBECTL_PATH, ['kustomize', ROOT], { encoding: 'utf8' })).map((d) => d.toJS()) as Json[]).filter((o) =>
  o?.kind?.startsWith('ValidatingAdmissionPolicy'),
);

let client: KubeClient;
const ns = `vap-${randomSuffix()}`;
const exempt = `vap-exempt-${randomSuffix()}`;
const allowing = `vap-sa-${randomSuffix()}`;

const mcp = (spec: Json, namespace = ns): Json => ({ apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name: `t-${randomSuffix()}`, namespace }, spec: { image: 'mcp/everything:latest', ...spec } });
const withPod = (spec: Json, namespace = ns) => mcp({ podTemplateSpec: { spec } }, namespace);
const mcpContainer = (extra: Json) => ({ containers: [{ name: 'mcp', ...extra }] });

/** Server-side dry-run create: the policies run, nothing is stored. Resolves 'ok' or the refusal message. */
async function admit(obj: Json): Promise<string> {
  try {
    await client.request('POST', collectionPath(obj.kind, obj.metadata.namespace), { body: obj, query: { dryRun: 'All' } });
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError) return e.message;
    throw e;
  }
}

beforeAll(async () => {
  client = new KubeClient(kubeConfigFrom(inject('kubeconfig')));
  await installCRDs(client);
  for (const [name, meta] of [
    [ns, {}],
    [exempt, { labels: { 'mcp.ome.io/pod-security-exception': 'true' } }],
    [allowing, { annotations: { 'mcp.ome.io/allowed-service-accounts': 'reader, github-bot' } }],
  ] as const) {
    await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...meta } } });
  }
  for (const p of policies) {
    const base = p.kind === 'ValidatingAdmissionPolicy' ? VAP : BINDING;
    await client.request('PATCH', `${base}/${p.metadata.name}`, { query: { fieldManager: 'ome-mcp-tests', force: true }, body: p, contentType: 'application/apply-patch+yaml' });
  }
  // A new policy takes effect once the API server has compiled and bound it.
  await eventually('the pod-security policy in force', async () => (await admit(withPod(mcpContainer({ securityContext: { privileged: true } })))) !== 'ok', 30_000, 500);
}, 120_000);

afterAll(async () => {
  for (const p of policies) await client?.request('DELETE', `${p.kind === 'ValidatingAdmissionPolicy' ? VAP : BINDING}/${p.metadata.name}`).catch(() => {});
  for (const n of [ns, exempt, allowing]) await client?.request('DELETE', `/api/v1/namespaces/${n}`).catch(() => {});
  client?.close();
});

describe('ome-mcp-server-pod-security', () => {
  it('ships both policies with their bindings', () => {
    expect(policies.map((p) => `${p.kind}/${p.metadata.name}`).sort()).toEqual([
      'ValidatingAdmissionPolicy/ome-mcp-attach-own-pod',
      'ValidatingAdmissionPolicy/ome-mcp-server-pod-security',
      'ValidatingAdmissionPolicyBinding/ome-mcp-attach-own-pod',
      'ValidatingAdmissionPolicyBinding/ome-mcp-server-pod-security',
    ]);
  });

  it('admits a plain server, a command override and a tightened security context', async () => {
    expect(await admit(mcp({}))).toBe('ok');
    expect(await admit(withPod(mcpContainer({ command: ['node', 'dist/index.js', 'stdio'] })))).toBe('ok');
    expect(await admit(withPod({ ...mcpContainer({ securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }), securityContext: { runAsNonRoot: true } }))).toBe('ok');
  });

  const refusals: [string, Json, RegExp][] = [
    ['privileged', mcpContainer({ securityContext: { privileged: true } }), /privileged/],
    ['privilege escalation', mcpContainer({ securityContext: { allowPrivilegeEscalation: true } }), /privilege escalation/],
    ['added capabilities', mcpContainer({ securityContext: { capabilities: { add: ['NET_ADMIN'] } } }), /capabilities/],
    ['root user', mcpContainer({ securityContext: { runAsUser: 0 } }), /run as root/],
    ['runAsNonRoot false on the pod', { securityContext: { runAsNonRoot: false } }, /run as root/],
    ['writable root filesystem', mcpContainer({ securityContext: { readOnlyRootFilesystem: false } }), /root filesystem/],
    ['host network', { hostNetwork: true }, /host's network/],
    ['host PID', { hostPID: true }, /host's network, PID/],
    ['hostPath volume', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }, /hostPath/],
    ['API credentials for the server', { automountServiceAccountToken: true }, /API credentials/],
    ['a privileged sidecar', { containers: [{ name: 'mcp' }, { name: 'helper', image: 'busybox', securityContext: { privileged: true } }] }, /privileged/],
    ['a privileged init container', { initContainers: [{ name: 'setup', image: 'busybox', securityContext: { privileged: true } }] }, /privileged/],
    ['a service account by podTemplateSpec', { serviceAccountName: 'default' }, /service account default is not allowed/],
  ];
  it.each(refusals)('refuses %s, saying why', async (_what, pod, message) => {
    const r = await admit(withPod(pod));
    expect(r).toMatch(/ome-mcp-server-pod-security/);
    expect(r).toMatch(message);
  });

  it('refuses spec.serviceAccount unless the namespace lists it', async () => {
    expect(await admit(mcp({ serviceAccount: 'github-bot' }))).toMatch(/service account github-bot is not allowed/);
    expect(await admit(mcp({ serviceAccount: 'github-bot' }, allowing))).toBe('ok');
    expect(await admit(mcp({ serviceAccount: 'admin' }, allowing))).toMatch(/service account admin is not allowed/);
  });

  it('checks ClusterMCPServers too', async () => {
    const c = { apiVersion: 'ome.io/v1beta1', kind: 'ClusterMCPServer', metadata: { name: `t-${randomSuffix()}` }, spec: { image: 'i', podTemplateSpec: { spec: { hostNetwork: true } } } };
    expect(await admit(c)).toMatch(/host's network/);
  });

  it('lifts the rules in a namespace an administrator labelled as an exception', async () => {
    expect(await admit(withPod(mcpContainer({ securityContext: { privileged: true } }), exempt))).toBe('ok');
    expect(await admit(mcp({ serviceAccount: 'anything' }, exempt))).toBe('ok');
  });
});
