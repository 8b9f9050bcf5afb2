// Reconciler scale benchmark: `node --import tsx bench/reconciler.ts` (or `npx tsx bench/reconciler.ts`).
//
// Starts the test control plane (test/k8s/cluster.ts: etcd, kube-apiserver, controller-manager,
// scheduler, kwok), runs the reconciler in a child process (so its RSS is its own), creates N
// MCPServers at once and measures the time until every Deployment and Service exists and every
// server's status is observed (status.observedGeneration == metadata.generation, phase set).
// Then, bounded, the time until every server is Running (kwok makes the pods Ready).
//
// Environment:
//   BENCH_SERVERS       number of MCPServers (default 500)
//   BENCH_WORKERS       reconciler workers (default 16)
//   BENCH_KUBECONFIG    use this cluster instead of starting one
//   BENCH_RUNNING_WAIT  seconds to wait for all Running (default 120; 0 skips)
//   BENCH_CONTROLLERS   0: API server and etcd only (no Deployment controller, scheduler, kwok) —
//                       isolates the reconciler's own cost from the rest of the control plane
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeConfig, makeInformer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { readdirSync } from 'node:fs';
import { KubeClient } from '../injector/reconciler/client.js';
import { CLK_TCK, cpuTicks } from './proc.js';
import type { ControllerStats } from '../injector/reconciler/index.js';
import { ensureNamespace, installCRDs } from '../test/k8s/helpers.js';

const N = Number(process.env.BENCH_SERVERS ?? 500);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 16);
const RUNNING_WAIT_S = Number(process.env.BENCH_RUNNING_WAIT ?? 120);
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- parent
function rss(pid: number): { rssMiB: number; peakMiB: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: 0, peakMiB: 0 };
  }
}

/** Pids of our cluster's processes (their command lines name the cluster's temp dir). */
function clusterPids(dir: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!dir) return out;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      if (!cmd.some((a) => a.includes(dir))) continue;
      const bin = cmd[0]!.split('/').pop()!;
      if (bin === 'sh') continue; // the harness's watchdog
      if (!out.has(bin)) out.set(bin, Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function parent(): Promise<void> {
  let cluster: { kubeconfigPath: string; dir: string; stop(): Promise<void> } | undefined;
  let kubeconfig = process.env.BENCH_KUBECONFIG;
  if (!kubeconfig) {
    const { startCluster } = await import('../test/k8s/cluster.js');
    const controllers = process.env.BENCH_CONTROLLERS !== '0';
    // a kwok node takes 110 pods: enough nodes for one pod per server
    const kwokNodes = Array.from({ length: Math.ceil(N / 100) }, (_, i) => `kwok-node-${i}`);
    cluster = await startCluster({ log: (m) => console.error(`[k8s] ${m}`), controllerManager: controllers, scheduler: controllers, kwok: controllers, kwokNodes });
    kubeconfig = cluster.kubeconfigPath;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc, { maxSockets: 64 });
  const ns = `bench-${Date.now().toString(36)}`;
  const systemNs = 'ome-mcp-system';
  let proc: ChildProcess | undefined;
  try {
    await installCRDs(client);
    await ensureNamespace(client, ns);
    await ensureNamespace(client, systemNs);

    // The child runs from an esbuild bundle, as the injector does in production (dist/injector.js):
    // under tsx the same code costs ~100 MiB more RSS.
    const root = resolve(dirname(self), '..');
    const bundle = join(root, 'dist', 'bench-reconciler.mjs');
    mkdirSync(dirname(bundle), { recursive: true });
    await build({
      entryPoints: [join(dirname(self), 'reconciler-child.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['node-pty', '@cedar-policy/cedar-wasm', 'pino', 'pino-pretty', 'thread-stream', '@kubernetes/client-node', 'esbuild', 'yaml'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
    });
    proc = spawn(process.execPath, [bundle, kubeconfig, systemNs], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_WORKERS: String(WORKERS) } });
    let latest: { leader: boolean; stats: ControllerStats } = { leader: false, stats: {} as ControllerStats };
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      try {
        latest = JSON.parse(l);
      } catch {
        /* ignore */
      }
    });
    const t0 = performance.now();
    while (!latest.leader) {
      if (performance.now() - t0 > 60_000) throw new Error('reconciler did not become leader');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500)); // caches synced (empty)
    const rssIdle = rss(proc.pid!);

    // --- create N at once (bounded in-flight requests on our side)
    const pids = new Map([...clusterPids(cluster?.dir)].filter(([, pid]) => pid !== proc!.pid && pid !== process.pid));
    pids.set('reconciler', proc.pid!);
    const cpu0 = cpuTicks([...pids.values()]);
    const start = performance.now();
    let next = 0;
    const create = async () => {
      while (next < N) {
        const i = next++;
        await client.request('POST', `/apis/ome.io/v1beta1/namespaces/${ns}/mcpservers`, {
          body: {
            apiVersion: 'ome.io/v1beta1',
            kind: 'MCPServer',
            metadata: { name: `s-${i}`, namespace: ns },
            spec: { image: 'example.com/mcp/echo:1', transport: i % 2 ? 'streamable-http' : 'stdio', permissionProfile: { type: 'builtin', name: 'none' } },
          },
        });
      }
    };
    await Promise.all(Array.from({ length: 32 }, create));
    const created = performance.now() - start;

    // --- wait for Deployments + Services + observed statuses. Watches, not polls: listing 500
    // objects a few times a second would itself load the API server we measure.
    type O = KubernetesObject & { metadata: { generation?: number }; status?: { observedGeneration?: number; phase?: string } };
    const watch = async (path: string) => {
      const inf = makeInformer<O>(kc, path, () => client.request<KubernetesListObject<O>>('GET', path));
      await inf.start();
      return inf;
    };
    const [deps, svcs, servers] = await Promise.all([
      watch(`/apis/apps/v1/namespaces/${ns}/deployments`),
      watch(`/api/v1/namespaces/${ns}/services`),
      watch(`/apis/ome.io/v1beta1/namespaces/${ns}/mcpservers`),
    ]);
    let objectsAt = 0;
    let observedAt = 0;
    let runningAt = 0;
    let peakRss = 0;
    const deadline = start + 300_000;
    try {
      for (;;) {
        const now = performance.now();
        peakRss = Math.max(peakRss, rss(proc.pid!).rssMiB);
        if (!objectsAt && deps.list().length >= N && svcs.list().length >= N) objectsAt = now - start;
        const all = servers.list();
        const observed = all.filter((x) => x.status?.phase && x.status.observedGeneration === x.metadata.generation).length;
        if (!observedAt && observed >= N) observedAt = now - start;
        const running = all.filter((x) => x.status?.phase === 'Running').length;
        if (!runningAt && running >= N) runningAt = now - start;
        if (objectsAt && observedAt && (runningAt || RUNNING_WAIT_S === 0 || now - start > RUNNING_WAIT_S * 1000)) {
          if (!runningAt && RUNNING_WAIT_S > 0) console.error(`[bench] ${running}/${N} Running after ${RUNNING_WAIT_S} s`);
          break;
        }
        if (now > deadline) throw new Error(`timeout: ${deps.list().length} deployments, ${svcs.list().length} services, ${observed} observed`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await Promise.all([deps.stop(), svcs.stop(), servers.stop()]);
    }
    // Server-side view: mean kube-apiserver latency of the reconciler's writes.
    const metrics = await client.request<string>('GET', '/metrics', { accept: 'text/plain' }).catch(() => '');
    const serverMean = (verb: string) => {
      let sum = 0;
      let count = 0;
      for (const line of String(metrics).split('\n')) {
        if (!line.includes(`verb="${verb}"`)) continue;
        const v = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (line.startsWith('apiserver_request_duration_seconds_sum')) sum += v;
        else if (line.startsWith('apiserver_request_duration_seconds_count')) count += v;
      }
      return count ? `${((sum / count) * 1000).toFixed(1)} ms × ${count}` : 'n/a';
    };
    const end = rss(proc.pid!);
    const cpu1 = cpuTicks([...pids.values()]);
    const cpuOf = (pid: number) => ((cpu1.get(pid) ?? 0) - (cpu0.get(pid) ?? 0)) / CLK_TCK;
    const cpuRow = [...pids].map(([n, pid]) => `${n} ${cpuOf(pid).toFixed(1)}`).join(', ');
    const s = latest.stats;
    const fmt = (ms: number) => (ms ? `${(ms / 1000).toFixed(1)} s` : 'n/a');
    console.log(`\n## Reconciler: ${N} MCPServers created at once (${WORKERS} workers)\n`);
    console.log('| measure | value |');
    console.log('|---|---|');
    console.log(`| all ${N} created (POSTs, 32 in flight) | ${fmt(created)} |`);
    console.log(`| all Deployments + Services exist | ${fmt(objectsAt)} |`);
    console.log(`| every status observed (phase set, observedGeneration current) | ${fmt(observedAt)} |`);
    console.log(`| every server Running (kwok pods Ready) | ${runningAt ? fmt(runningAt) : `not within ${RUNNING_WAIT_S} s`} |`);
    console.log(`| reconciler RSS idle / after / peak (VmHWM) | ${rssIdle.rssMiB.toFixed(0)} / ${end.rssMiB.toFixed(0)} / ${Math.max(peakRss, end.peakMiB).toFixed(0)} MiB |`);
    console.log(`| reconciles / applies / status writes / errors | ${s.reconciles} / ${s.applies} / ${s.statusWrites} / ${s.errors} |`);
    console.log(`| reconciler API requests / mean latency | ${s.apiRequests} / ${s.apiMeanMs.toFixed(1)} ms |`);
    console.log(`| kube-apiserver mean latency: APPLY / PATCH / POST (all clients) | ${serverMean('APPLY')} / ${serverMean('PATCH')} / ${serverMean('POST')} |`);
    console.log(`| CPU seconds during the run | ${cpuRow} |`);
    console.log(JSON.stringify({ servers: N, workers: WORKERS, createdMs: created, objectsMs: objectsAt, observedMs: observedAt, runningMs: runningAt, rssIdleMiB: rssIdle.rssMiB, rssMiB: end.rssMiB, peakRssMiB: Math.max(peakRss, end.peakMiB), stats: s }));
  } finally {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          proc!.kill('SIGKILL');
          r(undefined);
        }, 10_000);
        proc!.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    if (!process.env.BENCH_KUBECONFIG) await client.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
    client.close();
    await cluster?.stop();
  }
}

await parent();
