// The injector run outside the cluster, as a developer does (docs/injector.md): the in-cluster one
// scaled to 0 and both webhooks pointed at a URL by scripts/injector-out-of-cluster.sh, the
// injector started from dist/ with --kubeconfig on the host. It must serve admissions and reconcile
// MCPServers from there, and hand back to the in-cluster injector afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../k8s/cluster.js';
import { textOf } from '../agent/harness.js';
import { eventually, getJSON, KUBECTL, kubectl, mcpClient, portForward, useCluster, waitReady } from './kubectl.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = `${ROOT}scripts/injector-out-of-cluster.sh`;
const kubeconfig = inject('e2eKubeconfig');
useCluster(kubeconfig, inject('e2eClusterDir'));

/** The script as a user runs it, with this cluster's kubectl and kubeconfig. */
const script = (...args: string[]) =>
  promisify(execFile)('bash', [SCRIPT, ...args], { env: { ...process.env, KUBECTL, KUBECONFIG: kubeconfig }, timeout: 300_000 });

let injector: ChildProcess | undefined;
let log = '';
/** A wait that fails with the out-of-cluster injector's log attached (what it did meanwhile). */
const withLog = <T>(wait: Promise<T>): Promise<T> =>
  wait.catch((e: Error) => {
    throw new Error(`${e.message}\n${log}`);
  });
let pointed = false;
afterAll(async () => {
  injector?.kill('SIGTERM');
  if (pointed) await script('restore', '1');
});

describe('the injector outside the cluster (development)', () => {
  it('serves admissions and reconciles from the host through a webhook URL, then hands back', async () => {
    const hostIP = inject('e2eHostIP');
    const [webhookPort, healthPort] = [await freePort(), await freePort()];
    // In the documented order: point (the in-cluster injector gone), then start the injector.
    pointed = true;
    await script('point', `https://${hostIP}:${webhookPort}`);
    expect((await getJSON(['-n', 'ome-mcp-system', 'get', 'pods', '-l', 'app.kubernetes.io/name=ome-mcp-injector'])).items).toHaveLength(0);
    // The address the API server (inside the node namespace) reaches: the host's end of the veth.
    injector = spawn(process.execPath, [
      `${ROOT}dist/injector.js`,
      '--kubeconfig', kubeconfig,
      '--namespace', 'ome-mcp-system',
      '--webhook-host', hostIP, '--webhook-port', String(webhookPort),
      '--health-host', '127.0.0.1', '--health-port', String(healthPort),
      '--tls-ip-addresses', hostIP, '--tls-secret', 'ome-mcp-injector-dev-tls',
      '--feature-gates', 'MCPServerSupport=true',
      '--agent-image', 'localhost/ome-mcp/agent:e2e',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    injector.stdout!.on('data', (d: Buffer) => (log += d));
    injector.stderr!.on('data', (d: Buffer) => (log += d));
    await withLog(eventually('the out-of-cluster injector ready', async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok, 60_000, 500));
    const hooks = await getJSON(['get', 'mutatingwebhookconfiguration', 'ome-mcp-injector']);
    expect(hooks.webhooks.map((w: { clientConfig: { url?: string } }) => w.clientConfig.url)).toEqual([
      `https://${hostIP}:${webhookPort}/inject/namespace`,
      `https://${hostIP}:${webhookPort}/inject/pod`,
    ]);
    // Both webhooks trust this injector's CA: it writes it at start (/readyz does not wait for
    // that write: eventually). `point` patched only url/service, and the in-cluster replicas,
    // once stopping, write no caBundle, so nothing puts the in-cluster CA back over it.
    await withLog(eventually('both webhooks with the out-of-cluster injector\'s CA', async () => {
      const devCA = (await getJSON(['-n', 'ome-mcp-system', 'get', 'secret', 'ome-mcp-injector-dev-tls'])).data['ca.crt'];
      const now = await getJSON(['get', 'mutatingwebhookconfiguration', 'ome-mcp-injector']);
      return now.webhooks.every((w: { clientConfig: { caBundle?: string } }) => w.clientConfig.caBundle === devCA);
    }, 30_000, 500));

    // Admission: a server-side dry run of an annotated Pod comes back with the agent. The API
    // server takes up a changed webhook configuration from its own watch, a moment after the
    // patch; until then it still calls the Service (no endpoints: the pod webhook, failurePolicy
    // Ignore, admits without an agent). So: dry runs until one is injected, as Kubernetes' own
    // webhook e2e tests wait for a configuration to be in force.
    const dryRun = async () =>
      JSON.parse(
        await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'dev-check', namespace: 'default', annotations: { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/command': '["node", "dist/index.js", "stdio"]' } },
            spec: { containers: [{ name: 'mcp', image: 'localhost/ome-mcp-test/servers:e2e' }] },
          }),
        }),
      );
    const pod = await withLog(eventually('the API server calling the out-of-cluster webhook', async () => {
      const p = await dryRun();
      return p.spec.initContainers?.some((c: { name: string }) => c.name === 'mcp-agent') ? p : undefined;
    }, 30_000, 500));
    expect(pod.spec.initContainers.map((c: { name: string }) => c.name)).toContain('mcp-agent');

    // Reconcile: an MCPServer applied now runs, and serves a tool call.
    await kubectl(['apply', '--server-side', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'ome.io/v1beta1',
        kind: 'MCPServer',
        metadata: { name: 'dev-check', namespace: 'default' },
        spec: { image: 'localhost/ome-mcp-test/servers:e2e', podTemplateSpec: { spec: { containers: [{ name: 'mcp', command: ['node', 'dist/index.js', 'stdio'] }] } } },
      }),
    });
    await waitReady('mcpserver', 'dev-check', 'default');
    const f = await portForward('default', 'svc/mcp-dev-check', 8080);
    try {
      const client = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'from a host injector' } }))).toContain('from a host injector');
      await client.close();
    } finally {
      f.close();
    }

    // Hand back: the in-cluster injector serves again.
    injector.kill('SIGTERM');
    injector = undefined;
    await script('restore', '1');
    pointed = false;
    const restored = await getJSON(['get', 'mutatingwebhookconfiguration', 'ome-mcp-injector']);
    expect(restored.webhooks.map((w: { clientConfig: { service?: { path: string } } }) => w.clientConfig.service?.path)).toEqual(['/inject/namespace', '/inject/pod']);
    await kubectl(['delete', 'mcpserver', 'dev-check', '-n', 'default', '--wait=true']);
  });
});
