/**
 * Admission latency of the webhook on loopback: an open-loop load of N AdmissionReviews per second
 * (default 200/s for 10 s) against the shipped binary (`node dist/injector.js`, certificate from a
 * directory), in its own process so the load generator does not share its event loop, and, in the
 * same run, against a hello-world node:https server as the baseline. Each review is a realistic pod (annotated MCP server, a few
 * containers, env, volumes) that gets injected. Prints p50/p90/p99/max of the round trip as the
 * API server sees it (TLS keep-alive connection, request written → response read).
 *
 *   node --import tsx bench/admission.ts [--rate 200] [--seconds 10] [--connections 4]
 *
 * Target: p99 ≤ 5 ms.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { generateTls } from '../injector/webhook/tls.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '4' } },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(path.join(root, 'dist/injector.js'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });

// The shipped binary, serving a certificate from a directory like a mounted Secret.
const tlsDir = await mkdtemp(path.join(os.tmpdir(), 'bench-admission-'));
const tls = await generateTls({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
await writeFile(path.join(tlsDir, 'tls.crt'), tls.cert);
await writeFile(path.join(tlsDir, 'tls.key'), tls.key);
interface Target {
  name: string;
  child: ChildProcess;
  port: number;
  path: string;
  /** What a correct answer contains. */
  expect: string;
}

async function startProcess(name: string, args: string[], portPattern: RegExp, path: string, expect: string): Promise<Target> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let log = '';
    const onData = (c: Buffer) => {
      log += c.toString();
      const m = portPattern.exec(log);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${log}`)));
  });
  return { name, child, port, path, expect };
}

/** CPU seconds of a process so far (utime + stime from /proc). */
const cpuOf = async (t: Target): Promise<number> => {
  const stat = (await readFile(`/proc/${t.child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
};

const injector = await startProcess(
  'admission webhook (dist/injector.js)',
  [...(process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : []), 'dist/injector.js', '--agent-image', 'ome-mcp-agent:bench', '--tls-dir', tlsDir, '--webhook-host', '127.0.0.1', '--webhook-port', '0', '--health-host', '127.0.0.1', '--health-port', '0', '--shutdown-delay', '0'],
  /"url":"https:\/\/127\.0\.0\.1:(\d+)"/,
  '/inject/pod',
  '"patchType":"JSONPatch"',
);
// Baseline in the same run: the smallest node:https server answering a fixed AdmissionReview with
// the same certificate. The difference is what the webhook's own work costs.
const baseline = await startProcess(
  'baseline (hello-world node:https)',
  [
    '-e',
    `const fs=require('fs');const s=require('https').createServer({cert:fs.readFileSync(process.argv[1]+'/tls.crt'),key:fs.readFileSync(process.argv[1]+'/tls.key')},(q,r)=>{q.resume();q.on('end',()=>{const b='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true}}';r.writeHead(200,{'content-type':'application/json','content-length':b.length});r.end(b)})});s.listen(0,'127.0.0.1',()=>console.log('port '+s.address().port))`,
    tlsDir,
  ],
  /port (\d+)/,
  '/',
  '"allowed":true',
);
const agent = new https.Agent({ keepAlive: true, maxSockets: Number(values.connections) });

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'github-tools-7d9f-',
    namespace: 'team-a',
    labels: { app: 'github-tools', 'pod-template-hash': '7d9f' },
    annotations: { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/config': 'github-tools-agent' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'github-tools-7d9f', uid: 'b1c0', controller: true }],
  },
  spec: {
    serviceAccountName: 'github-tools',
    containers: [
      {
        name: 'mcp',
        image: 'example.com/mcp/github-mcp:1.2.3',
        command: ['node', '/app/dist/index.js'],
        args: ['--stdio', '--toolsets', 'repos,issues'],
        env: [
          { name: 'GITHUB_TOKEN', valueFrom: { secretKeyRef: { name: 'gh', key: 'token' } } },
          { name: 'LOG_LEVEL', value: 'info' },
        ],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
        volumeMounts: [{ name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
      },
    ],
    volumes: [{ name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
  },
};
const body = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '0f5d3c1e-bench',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    operation: 'CREATE',
    namespace: 'team-a',
    userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
    object: pod,
  },
});

function send(t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = https.request(
      { host: '127.0.0.1', port: t.port, path: t.path, method: 'POST', ca: tls.ca, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => {
          if (res.statusCode !== 200 || !text.includes(t.expect)) reject(new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 200)}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Result {
  p50: number;
  p99: number;
}

async function measure(t: Target): Promise<Result> {
  // Warm up TLS sessions and the JIT, then the measured open-loop run.
  for (let i = 0; i < 200; i++) await send(t);
  const cpuBefore = await cpuOf(t);
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send(t).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = (await cpuOf(t)) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  console.log(
    `${t.name}: ${latencies.length} reviews in ${elapsed.toFixed(1)} s (${(latencies.length / elapsed).toFixed(0)}/s): ` +
      `p50 ${pct(50).toFixed(2)} ms, p90 ${pct(90).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms; ` +
      `server CPU ${((cpu / latencies.length) * 1e6).toFixed(0)} µs per review; load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  return { p50: pct(50), p99: pct(99) };
}

console.log(`open loop, ${rate} AdmissionReviews/s for ${seconds} s each, ${values.connections} keep-alive TLS connections`);
const hook = await measure(injector);
const base = await measure(baseline);
console.log(`webhook/baseline: p50 ${(hook.p50 / base.p50).toFixed(2)}×, p99 ${(hook.p99 / base.p99).toFixed(2)}× (target: webhook p99 ≤ 5 ms)`);
agent.destroy();
injector.child.kill('SIGTERM');
baseline.child.kill('SIGTERM');
await rm(tlsDir, { recursive: true, force: true });
if (hook.p99 > 5) process.exitCode = 1;
