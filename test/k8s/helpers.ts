// Shared helpers of the k8s test files (CRD install, polling, namespaces).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import pino from 'pino';
import { KubeClient, isConflict } from '../../injector/reconciler/client.js';
import { startReconciler, type Reconciler, type ReconcilerOptions } from '../../injector/reconciler/index.js';

export const CRD_FILES = ['ome.io_mcpservers.yaml', 'ome.io_clustermcpservers.yaml', 'ome.io_mcpgateways.yaml', 'ome.io_mcptools.yaml', 'ome.io_mcpprompts.yaml', 'ome.io_mcpresources.yaml'].map((f) =>
  fileURLToPath(new URL(`../../manifests/crds/${f}`, import.meta.url)),
);

export function kubeConfigFrom(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value that is not undefined/false; bounded by `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

/** The Gateway API CRDs (GatewayClass, Gateway, HTTPRoute, ReferenceGrant) that test/k8s/gateway-api.sh fetched. */
export const GATEWAY_API_DIR = fileURLToPath(new URL('./gateway-api/', import.meta.url));
export const GATEWAY_API_CRDS = ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'].map((p) => `${p}.gateway.networking.k8s.io`);
export const gatewayAPIFile = (crd: string) => `${GATEWAY_API_DIR}gateway.networking.k8s.io_${crd.split('.')[0]}.yaml`;

/** Applies the generated CRDs and waits until they are Established and served. */
export async function installCRDs(client: KubeClient): Promise<void> {
  await applyCRDs(client, CRD_FILES);
  // The discovery/storage of a new CRD can lag a moment behind Established.
  await eventually('MCPServer API served', async () => {
    await client.request('GET', '/apis/ome.io/v1beta1/mcpservers', { query: { limit: 1 } });
    await client.request('GET', '/apis/ome.io/v1beta1/clustermcpservers', { query: { limit: 1 } });
    return true;
  }, 30_000);
}

/** Applies these CRD files (server-side) and waits until each is Established. */
export async function applyCRDs(client: KubeClient, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const crd = parse(readFileSync(file, 'utf8')) as { metadata: { name: string } };
    await client.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, {
      query: { fieldManager: 'ome-mcp-tests', force: true },
      body: crd,
      contentType: 'application/apply-patch+yaml',
    });
    await eventually(`CRD ${crd.metadata.name} established`, async () => {
      const c = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      );
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
    }, 30_000);
  }
}

/** The Gateway API CRDs (test/k8s/gateway-api.sh), for the test clusters; a clear error when they were not fetched. */
export async function installGatewayAPICRDs(client: KubeClient): Promise<void> {
  const files = GATEWAY_API_CRDS.map(gatewayAPIFile);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`bash test/k8s/gateway-api.sh\` (build.sh runs it)`);
  await applyCRDs(client, files);
}

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  try {
    await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  } catch (e) {
    if (!isConflict(e)) throw e;
  }
}

export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}

/** A reconciler for one test file: its objects in `systemNs`, fast retries, no leader election, a placeholder agent image. */
export function startTestReconciler(kubeconfig: string, systemNs: string, extra: Partial<ReconcilerOptions> = {}): Promise<Reconciler> {
  return startReconciler({
    kubeConfig: kubeConfigFrom(kubeconfig),
    namespace: systemNs,
    agentImage: 'example.com/ome-mcp-agent:test',
    featureGates: 'MCPServerSupport=true',
    workers: 4,
    backoff: { baseDelayMs: 200, maxDelayMs: 2_000 },
    leaderElection: false,
    logger: pino({ level: process.env.OME_MCP_TEST_LOG ?? 'silent' }),
    // kwok pods' IPs are only data: never connect to them (a test passes a probe of its own).
    agentProbe: false,
    ...extra,
  });
}
