// Replicas on the real node: `npx tsx bench/replicas.ts` (root; after test/k8s/build.sh and
// test/k8s/images.sh). Starts the test cluster with its real node (test/k8s/cluster.ts), installs
// ome-mcp, applies one MCPServer (server-everything over the FIFO bridge) and a client pod, then:
//   1. throughput through the Service with 1, 2 and 3 replicas: BENCH_CONCURRENCY concurrent
//      2026-07-28 tools/call loops for BENCH_SECONDS each, from the client pod (calls per second,
//      p50/p99, ratio to one replica);
//   2. the time a 2025 session needs to go on after its pod is deleted: one session, calls back to
//      back, both original pods deleted one after the other (one of them held the session); the
//      longest gap between two answered calls, and any failed call.
// Every loop is bounded in time. Results: a table on stdout and bench/results/replicas-<date>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../test/k8s/cluster.js';
import { getJSON, INSTALL_DIR, kubectl, useCluster } from '../test/e2e/kubectl.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const NS = 'bench';
const NAME = 'bench-everything';
const URL_IN_CLUSTER = `http://mcp-${NAME}.${NS}.svc.cluster.local:8080/mcp`;
const IMAGE = 'localhost/ome-mcp-test/servers:e2e';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: { name: ${NAME}, namespace: ${NS} }
spec:
  image: ${IMAGE}
  sessionAffinity: None
  podTemplateSpec:
    spec:
      containers:
        - name: mcp
          command: ["node", "dist/index.js", "stdio"]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${NS} }
spec:
  automountServiceAccountToken: false
  containers:
    - name: client
      image: ${IMAGE}
      imagePullPolicy: Never
      command: ["sleep", "infinity"]
      securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`;

/** In the client pod: `concurrency` loops of stateless calls, keep-alive, for `seconds`. */
const LOAD = String.raw`
const http = require('node:http');
const [url, seconds, concurrency] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
const lat = []; let ok = 0, fail = 0;
const call = (i) => new Promise((resolve) => {
  const t = process.hrtime.bigint();
  const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
    let d = ''; res.on('data', (c) => (d += c));
    res.on('end', () => { if (res.statusCode === 200 && d.includes('n' + i + '"')) { ok++; lat.push(Number(process.hrtime.bigint() - t) / 1e6); } else fail++; resolve(); });
  });
  req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  req.on('error', () => { fail++; resolve(); });
  req.end(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { message: 'n' + i }, _meta: meta } }));
});
(async () => {
  const end = Date.now() + Number(seconds) * 1000; let i = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: Number(concurrency) }, async () => { while (Date.now() < end) await call(i++); }));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  console.log(JSON.stringify({ ok, fail, rps: ok / ((Date.now() - t0) / 1000), p50: q(0.5), p99: q(0.99) }));
})();
`;

/** In the client pod: one 2025 session, calls back to back for `seconds`; the longest gap between answers. */
const SESSION = String.raw`
const http = require('node:http');
const [url, seconds] = process.argv.slice(1);
const post = (body, session) => new Promise((resolve) => {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  if (session) headers['mcp-session-id'] = session;
  const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
    let data = ''; res.on('data', (c) => (data += c));
    res.on('end', () => resolve({ status: res.statusCode, session: res.headers['mcp-session-id'], data }));
  });
  req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ status: 0, data: e.code || e.message }));
  req.end(JSON.stringify(body));
});
(async () => {
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  const session = init.session;
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  const end = Date.now() + Number(seconds) * 1000;
  let ok = 0, fail = 0, moved = 0, i = 0, last = Date.now(), maxGapMs = 0;
  while (Date.now() < end) {
    i++;
    const r = await post({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { message: 'c' + i } } }, session);
    if (r.data.includes('did not move with it')) moved++;
    if (r.status === 200 && r.data.includes('c' + i + '"')) { ok++; maxGapMs = Math.max(maxGapMs, Date.now() - last); last = Date.now(); } else fail++;
  }
  console.log(JSON.stringify({ ok, fail, moved, maxGapMs }));
})();
`;

const inPod = async (script: string, args: string[], timeoutMs: number) =>
  JSON.parse((await kubectl(['-n', NS, 'exec', 'client', '--', 'node', '-e', script, ...args], { timeoutMs })).trim().split('\n').pop()!);
const rollout = () => kubectl(['-n', NS, 'rollout', 'status', `deployment/mcp-${NAME}`, '--timeout=240s'], { timeoutMs: 250_000 });
const pods = async () =>
  ((await getJSON(['-n', NS, 'get', 'pods', '-l', `mcp.ome.io/mcpserver=${NAME}`])).items as { metadata: { name: string; deletionTimestamp?: string } }[])
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the real node needs root');
  const cluster = await startCluster({ realNode: true, kwok: false, log: (m) => console.error(`[bench] ${m}`), startTimeoutMs: 300_000 });
  try {
    useCluster(cluster.kubeconfigPath, cluster.dir);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-k', INSTALL_DIR]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/mcpservers.ome.io'], { timeoutMs: 130_000 });
    await kubectl(['-n', 'ome-mcp-system', 'rollout', 'status', 'deployment/ome-mcp-injector', '--timeout=240s'], { timeoutMs: 250_000 });
    await kubectl(['apply', '-f', '-'], { input: MANIFESTS });
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', `mcpserver/${NAME}`, 'pod/client', '--timeout=240s'], { timeoutMs: 250_000 });

    const throughput: Record<number, { ok: number; fail: number; rps: number; p50: number; p99: number }> = {};
    for (const replicas of [1, 2, 3]) {
      await kubectl(['-n', NS, 'scale', `mcpserver/${NAME}`, `--replicas=${replicas}`]);
      await rollout();
      await inPod(LOAD, [URL_IN_CLUSTER, '2', String(CONCURRENCY)], 60_000); // warm-up
      throughput[replicas] = await inPod(LOAD, [URL_IN_CLUSTER, String(SECONDS), String(CONCURRENCY)], SECONDS * 1000 + 60_000);
    }

    await kubectl(['-n', NS, 'scale', `mcpserver/${NAME}`, '--replicas=2']);
    await rollout();
    const original = await pods();
    // Long enough for both deletions and their rollouts (about 15 s each here); one of the two held the session.
    const run = inPod(SESSION, [URL_IN_CLUSTER, '90'], 150_000);
    for (const pod of original) {
      await new Promise((r) => setTimeout(r, 4000));
      await kubectl(['-n', NS, 'delete', 'pod', pod, '--wait=true'], { timeoutMs: 90_000 });
      await rollout();
    }
    const session = (await run) as { ok: number; fail: number; moved: number; maxGapMs: number };
    if (session.moved === 0) console.error('[bench] the session never moved: its owner outlived the run (raise the session time)');

    const base = throughput[1]!.rps;
    console.log(`\nReplicas through the Service (real node, 2 cores shared by everything; ${CONCURRENCY} concurrent 2026-07-28 tools/call loops, ${SECONDS} s each)`);
    console.log('| replicas | calls/s | ratio to 1 | p50 ms | p99 ms | failed |');
    console.log('|---|---|---|---|---|---|');
    for (const [r, t] of Object.entries(throughput)) console.log(`| ${r} | ${t.rps.toFixed(0)} | ${(t.rps / base).toFixed(2)} | ${t.p50.toFixed(1)} | ${t.p99.toFixed(1)} | ${t.fail} |`);
    console.log(`\nOne 2025 session, both original pods deleted in turn: ${session.ok} calls answered, ${session.fail} failed, moved ${session.moved}×, longest gap ${session.maxGapMs} ms`);
    const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `replicas-${new Date().toISOString().slice(0, 10)}.json`);
    writeFileSync(file, JSON.stringify({ seconds: SECONDS, concurrency: CONCURRENCY, throughput, session }, null, 2) + '\n');
    console.log(`(${file})`);
  } finally {
    await cluster.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
