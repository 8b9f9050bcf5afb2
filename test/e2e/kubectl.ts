// The E2E tests use kubectl as a user would (apply, get, wait, logs, exec, port-forward): the
// binary built from the pinned module (test/k8s/build.sh), against $KUBECONFIG.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { KUBECTL_PATH } from '../k8s/cluster.js';

export const KUBECTL = KUBECTL_PATH;
export const INSTALL_DIR = fileURLToPath(new URL('./install/', import.meta.url));
export const EXAMPLES_DIR = fileURLToPath(new URL('./examples/', import.meta.url));

/**
 * The cluster kubectl talks to. Set explicitly (global setup, and each test file from
 * `inject('e2eKubeconfig')`): the other test projects' setups set KUBECONFIG in the same process.
 */
let target: { kubeconfig: string; cacheDir: string } | undefined;
export function useCluster(kubeconfig: string, clusterDir: string): void {
  target = { kubeconfig, cacheDir: path.join(clusterDir, 'kubectl-cache') };
}

/** kubectl's env: this cluster's kubeconfig and a discovery cache of its own (another cluster may have had its address). */
function kubectlEnv(): NodeJS.ProcessEnv {
  if (!target) throw new Error('useCluster() first');
  return { ...process.env, KUBECONFIG: target.kubeconfig, KUBECACHEDIR: target.cacheDir };
}

/** Runs kubectl; resolves stdout, rejects with stderr in the message. */
export function kubectl(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(KUBECTL, args, { timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 << 20, env: kubectlEnv() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

export async function getJSON<T = Record<string, any>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

/** Polls until `fn` returns a value other than undefined/false (bounded). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface PortForward {
  port: number;
  close(): void;
}

/** `kubectl port-forward <target> :<remotePort>` on 127.0.0.1; resolves with the local port. */
export function portForward(namespace: string, target: string, remotePort: number): Promise<PortForward> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(KUBECTL, ['-n', namespace, 'port-forward', '--address', '127.0.0.1', target, `:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'], env: kubectlEnv() });
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`port-forward ${target}: no local port after 30 s: ${out}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), close: () => child.kill() });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward ${target} exited ${code}: ${out}`));
    });
  });
}

/** A TypeScript SDK client over streamable HTTP, optionally with a bearer token. */
export async function mcpClient(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {});
  const client = new Client({ name: 'ome-mcp-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/**
 * An MCPServer running server-everything over stdio (the image test/k8s/images.sh built; the
 * examples map mcp/everything to it), with `spec` (YAML, indented two spaces) added to its spec.
 */
export function everythingServer(name: string, namespace: string, spec: string): string {
  return testServer(name, namespace, ['node', 'dist/index.js', 'stdio'], spec);
}

/** An MCPServer running `command` from the test servers image (server-memory: /usr/local/lib/node_modules/…). */
export function testServer(name: string, namespace: string, command: string[], spec: string, labels: Record<string, string> = {}): string {
  return `
apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: { name: ${name}, namespace: ${namespace}, labels: ${JSON.stringify(labels)} }
spec:
  image: localhost/ome-mcp-test/servers:e2e
  podTemplateSpec:
    spec:
      containers:
        - name: mcp
          command: ${JSON.stringify(command)}
${spec}`;
}

/** Waits for the MCPServer's Ready condition, with its status in the error when it never comes. */
export async function waitReady(kind: 'mcpserver' | 'clustermcpserver', name: string, namespace?: string, timeoutMs = 240_000): Promise<void> {
  const ns = namespace ? ['-n', namespace] : [];
  try {
    await kubectl([...ns, 'wait', `--for=condition=Ready`, `${kind}/${name}`, `--timeout=${Math.round(timeoutMs / 1000)}s`], { timeoutMs: timeoutMs + 10_000 });
  } catch (err) {
    const status = await kubectl([...ns, 'get', `${kind}/${name}`, '-o', 'jsonpath={.status}']).catch(() => '');
    const pods = await kubectl(['get', 'pods', '-A', '-o', 'wide']).catch(() => '');
    throw new Error(`${(err as Error).message}\nstatus: ${status}\n${pods}`);
  }
}

/** `kubectl apply --server-side -k test/e2e/examples`, retried while the API server's discovery catches up with new CRDs. */
export async function applyExamples(): Promise<void> {
  await eventually('the examples applied', async () => (await kubectl(['apply', '--server-side', '-k', EXAMPLES_DIR]), true), 60_000, 2000);
}
