// The webhook on a real kube-apiserver: ome-mcp-injector runs in this process with a
// self-bootstrapped certificate (Secret + caBundle through the API), registered with a loopback
// URL. Pods are created through the API server and come back injected (or not), exactly as the
// API server applied our JSONPatch. An MCPServer's Deployment yields injected pods (reconciler),
// and the pod the API server stored is run locally with the pod runner behind an MCP client.
import { fileURLToPath } from 'node:url';
import type { V1Container, V1MutatingWebhookConfiguration, V1Pod, V1PodList } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startInjector, type RunningInjector } from '../../injector/injector.js';
import { parseOptions } from '../../injector/options.js';
import { ApiError, KubeClient } from '../../injector/reconciler/client.js';
import { buildWebhookConfiguration } from '../../injector/webhook/config.js';
import { bootstrapTls, ensureCaBundle } from '../../injector/webhook/tls.js';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { connectMcp as connect, ensureAgentBundle, localAgentImage, runPod } from '../pod-runner.js';
import { freePort } from './cluster.js';
import { ensureNamespace, eventually, installCRDs, kubeConfigFrom, randomSuffix } from './helpers.js';

const kubeconfig = inject('kubeconfig');
const kc = kubeConfigFrom(kubeconfig);
const client = new KubeClient(kc);
const id = randomSuffix();
const system = `ome-mcp-wh-${id}`;
const plain = `wh-plain-${id}`;
const labelled = `wh-ns-${id}`;
const servers = `wh-srv-${id}`;
const configName = `ome-mcp-injector-${id}`;
const AGENT_IMAGE = 'ome-mcp/agent:test';
const ECHO = fileURLToPath(new URL('../../agent/upstream/testdata/echo-server.mjs', import.meta.url));

let injector: RunningInjector;
const logs: string[] = [];

const names = (cs: V1Container[] | undefined) => (cs ?? []).map((c) => c.name);

function podBody(name: string, annotations: Record<string, string> = {}, containers: V1Container[] = [{ name: 'mcp', image: 'echo-server:test', command: [process.execPath, ECHO] }]): V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations }, spec: { containers } };
}

function createPod(namespace: string, pod: V1Pod, dryRun = false): Promise<V1Pod> {
  return client.request<V1Pod>('POST', `/api/v1/namespaces/${namespace}/pods`, { body: pod, query: dryRun ? { dryRun: 'All' } : {} });
}

beforeAll(async () => {
  await installCRDs(client);
  for (const ns of [system, plain, servers]) await ensureNamespace(client, ns);
  await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: labelled, labels: { 'mcp.ome.io/injection': 'enabled' } } },
  });
  const port = await freePort();
  const config = buildWebhookConfiguration({ name: configName, target: { url: `https://127.0.0.1:${port}` }, injectorNamespace: system });
  await client.request('POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', { body: config });

  const options = await parseOptions(
    [
      ['--agent-image', AGENT_IMAGE],
      ['--webhook-host', '127.0.0.1'],
      ['--webhook-port', String(port)],
      ['--health-host', '127.0.0.1'],
      ['--health-port', '0'],
      ['--tls-ip-addresses', '127.0.0.1'],
      ['--webhook-config', configName],
      ['--namespace', system],
      ['--kubeconfig', kubeconfig],
      ['--feature-gates', 'MCPServerSupport=true'],
      ['--shutdown-delay', '0'],
    ].flat(),
    {},
  );
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  injector = await startInjector(options, logger);
  // The API server picks up webhook configuration changes through an informer: wait until a
  // dry-run pod comes back injected.
  await eventually(
    'webhook in effect',
    async () => names((await createPod(plain, podBody('probe', { 'mcp.ome.io/inject': 'true' }), true)).spec?.initContainers).includes('mcp-agent'),
    30_000,
  );
}, 120_000);

afterAll(async () => {
  await injector?.stop();
  await client.request('DELETE', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${configName}`).catch(() => {});
  for (const ns of [system, plain, labelled, servers]) await client.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
  client.close();
});

describe('ome-mcp-injector webhook on a real API server', () => {
  it('bootstrapped its certificate into a Secret and the caBundle', async () => {
    const secret = await client.request<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${system}/secrets/ome-mcp-injector-tls`);
    const config = await client.request<V1MutatingWebhookConfiguration>('GET', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${configName}`);
    expect(config.webhooks!.map((w) => w.clientConfig.caBundle)).toEqual([secret.data['ca.crt'], secret.data['ca.crt']]);
    expect(Buffer.from(secret.data['tls.crt']!, 'base64').toString()).toMatch(/BEGIN CERTIFICATE/);
  });

  it('an annotated pod comes back injected; re-admitting the stored pod changes nothing', async () => {
    const pod = await createPod(plain, podBody('annotated', { 'mcp.ome.io/inject': 'true' }));
    expect(names(pod.spec!.initContainers)).toEqual(['mcp-agent-init', 'mcp-agent']);
    const agent = pod.spec!.initContainers![1]!;
    expect(agent.restartPolicy).toBe('Always');
    expect(agent.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.spec!.containers[0]!.command!.slice(0, 3)).toEqual(['/ome-mcp/busybox', 'sh', '-c']);
    expect(pod.metadata!.annotations!['mcp.ome.io/injected']).toContain('fifo');

    // The stored pod, defaults and all, created again: the webhook leaves it as it is.
    const copy: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'annotated-copy', annotations: pod.metadata!.annotations }, spec: { ...pod.spec!, nodeName: undefined } };
    const again = await createPod(plain, copy);
    expect(again.spec!.initContainers).toEqual(pod.spec!.initContainers);
    expect(again.spec!.containers).toEqual(pod.spec!.containers);
    expect(again.spec!.volumes).toEqual(pod.spec!.volumes);
  });

  it('a pod without opt-in is untouched', async () => {
    const body = podBody('plain');
    const pod = await createPod(plain, body);
    expect(pod.spec!.initContainers).toBeUndefined();
    expect(pod.spec!.containers[0]!.command).toEqual(body.spec!.containers[0]!.command);
    expect(pod.metadata!.annotations?.['mcp.ome.io/injected']).toBeUndefined();
  });

  it('a labelled namespace injects MCP pods, honours inject=false and skips other pods', async () => {
    expect(names((await createPod(labelled, podBody('mcp'))).spec!.initContainers)).toEqual(['mcp-agent-init', 'mcp-agent']);
    expect((await createPod(labelled, podBody('opted-out', { 'mcp.ome.io/inject': 'false' }))).spec!.initContainers).toBeUndefined();
    expect((await createPod(labelled, podBody('web', {}, [{ name: 'web', image: 'nginx', command: ['nginx'] }]))).spec!.initContainers).toBeUndefined();
  });

  it('falls back to attach when the command is unknown', async () => {
    const pod = await createPod(plain, podBody('attach', { 'mcp.ome.io/inject': 'true' }, [{ name: 'mcp', image: 'srv:1' }]));
    expect(pod.spec!.containers[0]!.stdin).toBe(true);
    expect(pod.spec!.initContainers![0]!.args).toContain('$(OME_MCP_POD_NAMESPACE)/$(OME_MCP_POD_NAME)/mcp');
  });

  it('refuses invalid annotations with the reason', async () => {
    const err = await createPod(plain, podBody('bad', { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/port': 'eighty' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toMatch(/denied the request: annotation mcp\.ome\.io\/port must be a port number/);
  });

  it('a Deployment with an annotated template yields injected pods', async () => {
    const labels = { app: 'annotated-deploy' };
    await client.request('POST', `/apis/apps/v1/namespaces/${plain}/deployments`, {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'annotated-deploy' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels, annotations: { 'mcp.ome.io/inject': 'true' } }, spec: { containers: [{ name: 'mcp', image: 'srv:1', command: ['srv'] }] } },
        },
      },
    });
    const pods = await eventually('two pods', async () => {
      const list = await client.request<V1PodList>('GET', `/api/v1/namespaces/${plain}/pods`, { query: { labelSelector: 'app=annotated-deploy' } });
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const p of pods) expect(names(p.spec!.initContainers)).toEqual(['mcp-agent-init', 'mcp-agent']);
  });

  it("an MCPServer's Deployment yields injected pods", async () => {
    await client.request('POST', `/apis/ome.io/v1beta1/namespaces/${servers}/mcpservers`, {
      body: { apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name: 'echo' }, spec: { image: 'srv:1', args: ['--stdio'] } },
    });
    const pods = await eventually(
      'pods of the MCPServer',
      async () => {
        const list = await client.request<V1PodList>('GET', `/api/v1/namespaces/${servers}/pods`);
        return list.items.length > 0 ? list.items : undefined;
      },
      90_000,
    );
    for (const p of pods) {
      expect(names([...(p.spec!.initContainers ?? []), ...p.spec!.containers])).toContain('mcp-agent');
      expect(names(p.spec!.containers)).toContain('mcp');
      expect(p.metadata!.annotations!['mcp.ome.io/injected']).toBeDefined();
    }
  });

  it('the pod the API server stored runs locally and serves MCP through the agent', async () => {
    ensureAgentBundle();
    const port = await freePort();
    const stored = await createPod(plain, podBody('runnable', { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/port': String(port) }));
    const pod = await runPod({ pod: stored, images: { [AGENT_IMAGE]: localAgentImage(), 'echo-server:test': {} }, cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    try {
      await pod.waitReady('mcp-agent');
      const mcp = await connect(port);
      try {
        expect((await mcp.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'pid']);
        expect((await mcp.callTool({ name: 'echo', arguments: { text: 'stored pod' } })).content).toEqual([{ type: 'text', text: 'stored pod' }]);
      } finally {
        await mcp.close();
      }
    } finally {
      await pod.stop();
    }
  });

  it('replicas bootstrapping at once settle on one certificate; caBundle upkeep is idempotent', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const boot = () => bootstrapTls({ core, namespace: system, secretName: 'race-tls', service: 'ome-mcp-injector' });
    const [a, b, c] = await Promise.all([boot(), boot(), boot()]);
    expect(b!.cert).toBe(a!.cert);
    expect(c!.ca).toBe(a!.ca);
    const secret = await client.request<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${system}/secrets/ome-mcp-injector-tls`);
    const ca = Buffer.from(secret.data['ca.crt']!, 'base64').toString();
    expect(await ensureCaBundle(kc.makeApiClient(AdmissionregistrationV1Api), configName, ca)).toBe(0);
  });

  it('with the injector down: labelled namespaces refuse pods (Fail), elsewhere pods start uninjected (Ignore)', async () => {
    await injector.stop();
    const refused = await createPod(labelled, podBody('while-down')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).message).toMatch(/failed calling webhook "namespace\.inject\.mcp\.ome\.io"/);
    const started = Date.now();
    const pod = await createPod(plain, podBody('while-down', { 'mcp.ome.io/inject': 'true' }));
    expect(pod.spec!.initContainers).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(6_000); // connection refused: no timeout wait
  });
});
