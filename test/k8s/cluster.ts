// A real Kubernetes control plane for tests: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and (when built) the kwok controller,
// all on 127.0.0.1 with free ports and a temporary directory. Binaries come from
// `bash test/k8s/build.sh` (test/k8s/bin). No fakes: RBAC, admission webhooks,
// CRD validation and the controllers are the real ones.
//
//   const cluster = await startCluster();
//   // cluster.kubeconfigPath: admin (system:masters) kubeconfig
//   await cluster.restartApiServer();   // same etcd, same port
//   await cluster.stop();               // idempotent; also runs on process exit
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { webcrypto } from 'node:crypto';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import { freePort } from '../free-port.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import { builtImages, cleanupNodeLeftovers, CLUSTER_DNS_DOMAIN, createNetns, killNodeProcesses, POD_SUBNET as NODE_POD_CIDR, writeNodeConfig, type Netns } from './node.js';

const execFileP = promisify(execFile);

export const BUILD_HINT = 'run `bash test/k8s/build.sh` to build them (the first build takes a while; later runs reuse the cache)';

/** Where `test/k8s/images.sh` lists the image archives it built. */
export const IMAGES_LIST = fileURLToPath(new URL('./images/images.list', import.meta.url));
export const PAUSE_IMAGE = 'localhost/ome-mcp/pause:e2e';
export const NODE_NAME = 'node-0';
const DNS_SCRIPT = fileURLToPath(new URL('./dns.ts', import.meta.url));

/** Where `test/k8s/build.sh` puts the binaries (a symlink into the version-keyed cache). */
export const DEFAULT_BIN_DIR = fileURLToPath(new URL('./bin/', import.meta.url));
/** kubectl built from the pinned module (test/k8s/build.sh). */
export const KUBECTL_PATH = path.join(process.env.OME_MCP_K8S_BIN || DEFAULT_BIN_DIR, 'kubectl');

/** Annotation the kwok controller is told to manage nodes by. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface StartClusterOptions {
  /** Directory holding etcd, kube-apiserver, ... (default: $OME_MCP_K8S_BIN or test/k8s/bin). */
  binDir?: string;
  /** Working directory for certs, data and logs (default: a new temp dir). */
  dir?: string;
  /** Start kube-controller-manager (default true). */
  controllerManager?: boolean;
  /** Start kube-scheduler (default true). */
  scheduler?: boolean;
  /**
   * Start the kwok controller and register one fake node it keeps Ready, so
   * pods get scheduled and become Running/Ready without a kubelet
   * (default: true when the kwok binary was built).
   */
  kwok?: boolean;
  /** Names of the fake kwok nodes (default ['kwok-node-0']). */
  kwokNodes?: string[];
  /**
   * Run the whole cluster inside a new network namespace and add a real node: containerd + runc,
   * the CNI bridge, kubelet and kube-proxy (test/k8s/node.ts). Needs root and `bash
   * test/k8s/images.sh` for the sandbox image; every image it built is imported at start.
   */
  realNode?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=...']. */
  apiServerArgs?: string[];
  /** Time allowed for everything to become ready (default 120 s). */
  startTimeoutMs?: number;
  /** Keep the temp dir after stop() (default: $OME_MCP_K8S_KEEP === '1'); a `dir` given here is never removed. */
  keepDir?: boolean;
  /** Progress messages (default: silent). */
  log?: (msg: string) => void;
}

export interface Cluster {
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Temp directory with certs, etcd data and the logs. */
  dir: string;
  /** PEM of the cluster CA (serving cert and client certs are signed by it). */
  caCertPath: string;
  /** Service-account token issuer. */
  serviceAccountIssuer: string;
  /** Log file of each process, by name (etcd, kube-apiserver, ...). */
  logs: Record<string, string>;
  /** Names of the nodes: the real one, or the kwok-managed ones (empty without either). */
  nodes: string[];
  /** The network namespace of a real-node cluster (its node IP is where the API server listens). */
  netns?: Pick<Netns, 'name' | 'path' | 'nodeIP' | 'hostIP'>;
  /**
   * Stops kube-apiserver and starts it again on the same port with the same
   * etcd and flags; resolves when /readyz answers 200. `whileDown` runs while
   * it is stopped.
   */
  restartApiServer(opts?: { whileDown?: () => Promise<void> }): Promise<void>;
  /** Stops every process and removes `dir` (unless kept). Safe to call twice. */
  stop(): Promise<void>;
}

const SA_ISSUER = 'https://kubernetes.default.svc';
const SERVICE_CIDR = '10.96.0.0/16';
const POD_CIDR = '10.244.0.0/16';

// ---------------------------------------------------------------- processes

interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited: boolean;
}

/** Every child of every cluster still running in this process. */
const live = new Set<Proc>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) killGroup(p, 'SIGKILL');
  });
}

function killGroup(p: Proc, signal: NodeJS.Signals): void {
  if (p.hasExited || p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal); // detached: the child leads its own process group
  } catch {
    try {
      p.child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function startProc(name: string, bin: string, args: string[], logPath: string, wrap: (argv: string[]) => string[] = (a) => a): Proc {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    writeFileSync(fd, `\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
    const [exe, ...argv] = wrap([bin, ...args]);
    child = spawn(exe!, argv, {
      stdio: ['ignore', fd, fd],
      detached: true, // own process group, so stop() also reaps anything it forks
      env: { ...process.env, KUBECONFIG: '' },
    });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const proc: Proc = { name, child, logPath, hasExited: false, exited: Promise.resolve({ code: null, signal: null }) };
  proc.exited = new Promise((resolve) => {
    child.once('error', (err) => {
      proc.hasExited = true;
      live.delete(proc);
      void appendFile(logPath, `spawn error: ${err.message}\n`).catch(() => {});
      resolve({ code: -1, signal: null });
    });
    child.once('exit', (code, signal) => {
      proc.hasExited = true;
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  live.add(proc);
  installExitHook();
  return proc;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. kube-apiserver's own graceful
 * shutdown waits for open watches up to its request timeout (60 s), so it gets
 * a short grace: it keeps no state of its own (etcd does).
 */
async function stopProc(p: Proc, graceMs = p.name === 'kube-apiserver' ? 2_000 : 5_000): Promise<void> {
  if (p.hasExited) return;
  // Children are unref'd so a forgotten stop() never holds the process open;
  // while we wait for one to exit it must keep the event loop alive.
  p.child.ref();
  killGroup(p, 'SIGTERM');
  const timer = setTimeout(() => killGroup(p, 'SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
  killGroup(p, 'SIGKILL'); // leftovers in the group, if any
}

/**
 * A shell that outlives nothing: it blocks on a pipe from this process and,
 * once the pipe closes (this process died, even by SIGKILL), kills the process
 * groups listed in `pidFile` and removes `removeDir` (if given). stop() kills
 * it first, so it never acts on recycled pids.
 */
function startWatchdog(pidFile: string, removeDir: string | undefined): ChildProcess {
  writeFileSync(pidFile, '');
  const script = [
    'cat >/dev/null',
    // dash's kill takes neither `--` nor `-s KILL` before a negative pid
    'while read -r pg; do kill -9 -"$pg" 2>/dev/null; done < "$1"',
    'if [ -n "$2" ]; then sleep 1; rm -rf -- "$2"; fi',
    'exit 0',
  ].join('; ');
  const wd = spawn('/bin/sh', ['-c', script, 'ome-mcp-k8s-watchdog', pidFile, removeDir ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  wd.on('error', () => {});
  wd.unref();
  (wd.stdin as unknown as net.Socket | null)?.unref?.();
  return wd;
}

async function tail(file: string, lines = 25): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------- helpers

export { freePort };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** The kubelet's client certificate (system:node:<name> in system:nodes, for the Node authorizer). */
  nodeCert: string;
  nodeKey: string;
  saKey: string;
  saPub: string;
}

async function makePki(extraIPs: string[] = []): Promise<Pki> {
  const crypto = webcrypto as unknown as Crypto;
  const ec = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const gen = () => crypto.subtle.generateKey(ec, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const exportKey = async (k: CryptoKey) => pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', k));
  const notBefore = new Date(Date.now() - 60 * 60_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 60 * 60_000);
  const serial = () => Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex').replace(/^[89a-f]/, '1');

  const caKeys = await gen();
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: 'CN=ome-mcp-test-ca',
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: ec,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const leaf = async (subject: string, usage: 'server' | 'client', sans: x509.JsonGeneralName[] = []) => {
    const keys = await gen();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ];
    if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject,
        issuer: ca.subject,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ec,
        extensions,
      },
      crypto,
    );
    return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
  };

  const serving = await leaf('CN=kube-apiserver', 'server', [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: 'kubernetes' },
    { type: 'dns', value: 'kubernetes.default' },
    { type: 'dns', value: 'kubernetes.default.svc' },
    { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
    { type: 'ip', value: '10.96.0.1' },
    ...extraIPs.map((value) => ({ type: 'ip' as const, value })),
  ]);
  const admin = await leaf('CN=ome-mcp-test-admin, O=system:masters', 'client');
  const node = await leaf(`CN=system:node:${NODE_NAME}, O=system:nodes`, 'client');

  // Service-account tokens are signed with RS256, as on most real clusters.
  const sa = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;

  return {
    caCert: ca.toString('pem') + '\n',
    caKey: await exportKey(caKeys.privateKey),
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    nodeCert: node.cert,
    nodeKey: node.key,
    saKey: await exportKey(sa.privateKey),
    saPub: pem('PUBLIC KEY', await crypto.subtle.exportKey('spki', sa.publicKey)),
  };
}

function kubeconfig(server: string, pki: Pki, cert = pki.adminCert, key = pki.adminKey): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  // JSON is valid YAML; every kubeconfig loader reads it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'ome-mcp-test', cluster: { server, 'certificate-authority-data': b64(pki.caCert) } }],
      users: [{ name: 'admin', user: { 'client-certificate-data': b64(cert), 'client-key-data': b64(key) } }],
      contexts: [{ name: 'ome-mcp-test', context: { cluster: 'ome-mcp-test', user: 'admin', namespace: 'default' } }],
      'current-context': 'ome-mcp-test',
    },
    null,
    2,
  );
}

interface Conn {
  host: string;
  port: number;
  ca: string;
  cert: string;
  key: string;
}

/** One HTTPS request to the API server as admin; never throws on HTTP status. */
function apiRequest(c: Conn, method: string, urlPath: string, body?: unknown, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request(
      {
        host: c.host,
        port: c.port,
        method,
        path: urlPath,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        servername: 'localhost',
        agent: false,
        timeout: timeoutMs,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on('error', reject);
    req.end(data);
  });
}

function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

class StartError extends Error {}

/** Polls `check` until it returns true; fails early when a watched process dies. */
async function waitFor(what: string, deadline: number, watched: Proc[], check: () => Promise<boolean>): Promise<void> {
  let lastErr = '';
  for (;;) {
    for (const p of watched) {
      if (p.hasExited) {
        const { code, signal } = await p.exited;
        throw new StartError(`${p.name} exited (code ${code}, signal ${signal}) while waiting for ${what}; log ${p.logPath}:\n${await tail(p.logPath)}`);
      }
    }
    try {
      if (await check()) return;
      lastErr = '';
    } catch (err) {
      lastErr = (err as Error).message;
    }
    if (Date.now() > deadline) throw new StartError(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`);
    await sleep(200);
  }
}

/** Names of the binaries the harness needs in binDir (kwok is optional). */
export const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

export function missingBinaries(binDir = process.env.OME_MCP_K8S_BIN || DEFAULT_BIN_DIR, extra: string[] = []): string[] {
  return [...REQUIRED_BINARIES, ...extra].filter((b) => !existsSync(path.join(binDir, b)));
}

// ---------------------------------------------------------------- cluster

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  // Free ports are picked by binding port 0 and closing it; another process on
  // the machine can take one before etcd or kube-apiserver binds it. Then a
  // second attempt, with new ports and a new directory, is worth it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (err) {
      if (attempt >= 3 || opts.dir || !/address already in use/.test((err as Error).message)) throw err;
      opts.log?.(`port taken while starting, retrying (${(err as Error).message.split('\n')[0]})`);
    }
  }
}

async function startClusterOnce(opts: StartClusterOptions): Promise<Cluster> {
  const binDir = opts.binDir ?? (process.env.OME_MCP_K8S_BIN || DEFAULT_BIN_DIR);
  const missing = missingBinaries(binDir);
  if (missing.length) throw new Error(`Kubernetes test binaries missing in ${binDir}: ${missing.join(', ')}; ${BUILD_HINT}`);
  const bin = (name: string) => path.join(binDir, name);
  const kwokBuilt = existsSync(bin('kwok')) && existsSync(bin('kwok-stages.yaml'));
  if (opts.kwok === true && !kwokBuilt) throw new Error(`kwok requested but not built in ${binDir}; ${BUILD_HINT}`);
  const useKwok = opts.kwok ?? kwokBuilt;
  const useKcm = opts.controllerManager ?? true;
  const useScheduler = opts.scheduler ?? true;
  const log = opts.log ?? (() => {});
  const startTimeout = opts.startTimeoutMs ?? 120_000;
  const keepDir = opts.keepDir ?? process.env.OME_MCP_K8S_KEEP === '1';
  const t0 = Date.now();
  const deadline = t0 + startTimeout;

  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'ome-mcp-k8s-')));
  // A real node: everything in a namespace of its own, listening on the node IP.
  const netns = opts.realNode ? createNetns() : undefined;
  const host = netns?.nodeIP ?? '127.0.0.1';
  const wrap = netns?.wrap;
  const removeDir = !opts.dir && !keepDir;
  await mkdir(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const proc = (name: string, binary: string, args: string[]) => startProc(name, binary, args, f(`${name}.log`), wrap);
  const logs: Record<string, string> = {};
  const procs: Proc[] = [];
  const watchdog = startWatchdog(f('pgids'), removeDir ? dir : undefined);
  const track = (p: Proc) => {
    procs.push(p);
    logs[p.name] = p.logPath;
    writeFileSync(
      f('pgids'),
      procs
        .filter((x) => !x.hasExited && x.child.pid)
        .map((x) => `${x.child.pid}\n`)
        .join(''),
    );
    return p;
  };

  let stopping: Promise<void> | undefined;
  /** Undo steps beyond the processes (netns, cgroups), run after they stopped. */
  const cleanups: (() => void)[] = [];
  if (netns) cleanups.push(() => netns.remove());
  const runCleanups = () => {
    for (const c of cleanups.reverse()) {
      try {
        c();
      } catch {
        /* best effort */
      }
    }
  };
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const p of [...procs].reverse()) await stopProc(p);
      runCleanups();
      watchdog.kill('SIGKILL');
      if (removeDir) await rm(dir, { recursive: true, force: true }).catch(() => {});
    })());

  try {
    // --- PKI and kubeconfig
    const pki = await makePki(netns ? [netns.nodeIP] : []);
    await Promise.all([
      writeFile(f('ca.crt'), pki.caCert),
      writeFile(f('ca.key'), pki.caKey, { mode: 0o600 }),
      writeFile(f('apiserver.crt'), pki.servingCert),
      writeFile(f('apiserver.key'), pki.servingKey, { mode: 0o600 }),
      writeFile(f('admin.crt'), pki.adminCert),
      writeFile(f('admin.key'), pki.adminKey, { mode: 0o600 }),
      writeFile(f('sa.key'), pki.saKey, { mode: 0o600 }),
      writeFile(f('sa.pub'), pki.saPub),
    ]);
    const [etcdClient, etcdPeer, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const server = `https://${host}:${apiPort}`;
    const kubeconfigPath = f('admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(server, pki), { mode: 0o600 });
    const conn: Conn = { host, port: apiPort, ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };
    log(`certs and kubeconfig in ${dir} (${Date.now() - t0} ms)`);

    // --- etcd
    const etcdUrl = `http://${host}:${etcdClient}`;
    const etcd = track(
      proc(
        'etcd',
        bin('etcd'),
        [
          '--name=default',
          `--data-dir=${f('etcd-data')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://${host}:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://${host}:${etcdPeer}`,
          `--initial-cluster=default=http://${host}:${etcdPeer}`,
          '--initial-cluster-state=new',
          '--unsafe-no-fsync=true', // test data only; much faster on shared disks
          '--log-level=warn',
        ],
      ),
    );
    await waitFor('etcd /health', deadline, [etcd], async () => {
      const r = await httpGet(`${etcdUrl}/health`);
      return r.status === 200 && r.body.includes('"health":"true"');
    });
    log(`etcd ready at ${etcdUrl} (${Date.now() - t0} ms)`);

    // --- kube-apiserver
    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      // The lease reconciler refuses a loopback advertise address; as in
      // envtest, the `kubernetes` Service then simply gets no endpoints. On a
      // real node pods reach the API server through it.
      ...(netns
        ? [`--kubelet-client-certificate=${f('admin.crt')}`, `--kubelet-client-key=${f('admin.key')}`, '--kubelet-preferred-address-types=InternalIP']
        : ['--endpoint-reconciler-type=none']),
      `--secure-port=${apiPort}`,
      `--cert-dir=${f('apiserver-certs')}`,
      `--tls-cert-file=${f('apiserver.crt')}`,
      `--tls-private-key-file=${f('apiserver.key')}`,
      `--client-ca-file=${f('ca.crt')}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${SA_ISSUER}`,
      `--api-audiences=${SA_ISSUER}`,
      `--service-account-key-file=${f('sa.pub')}`,
      `--service-account-signing-key-file=${f('sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultTolerationSeconds,DefaultStorageClass,NodeRestriction,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,ResourceQuota',
      '--allow-privileged=true',
      '--profiling=false',
      ...(opts.apiServerArgs ?? []),
    ];
    const startApiServer = () => track(proc('kube-apiserver', bin('kube-apiserver'), apiArgs));
    const waitApiReady = (p: Proc, until: number) =>
      waitFor('kube-apiserver /readyz', until, [etcd, p], async () => (await apiRequest(conn, 'GET', '/readyz', undefined, 3_000)).status === 200);
    let apiserver = startApiServer();
    await waitApiReady(apiserver, deadline);
    log(`kube-apiserver ready at ${server} (${Date.now() - t0} ms)`);

    // --- controllers
    const waitFirst: Promise<void>[] = [];
    if (useKcm) {
      const kcm = track(
        proc(
          'kube-controller-manager',
          bin('kube-controller-manager'),
          [
            `--kubeconfig=${kubeconfigPath}`,
            '--leader-elect=false',
            '--secure-port=0',
            // Every on-by-default controller. The cloud-provider ones
            // (cloud-node-lifecycle, service-lb, node-route) are no longer part
            // of kube-controller-manager in this release, and naming an unknown
            // controller is an error, so there is nothing to subtract.
            '--controllers=*',
            `--service-account-private-key-file=${f('sa.key')}`,
            `--root-ca-file=${f('ca.crt')}`,
            `--cluster-signing-cert-file=${f('ca.crt')}`,
            `--cluster-signing-key-file=${f('ca.key')}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            '--use-service-account-credentials=false',
            '--profiling=false',
          ],
        ),
      );
      // The service-account controller creates `default` in every namespace;
      // pods cannot be created before it exists.
      waitFirst.push(
        waitFor('the default ServiceAccount (kube-controller-manager)', deadline, [etcd, apiserver, kcm], async () => {
          return (await apiRequest(conn, 'GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200;
        }),
      );
    }
    if (useScheduler) {
      track(proc('kube-scheduler', bin('kube-scheduler'), [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--secure-port=0', '--profiling=false']));
    }
    const nodes = useKwok ? [...(opts.kwokNodes ?? ['kwok-node-0'])] : [];
    if (useKwok) {
      const kwok = track(
        proc(
          'kwok',
          bin('kwok'),
          [
            `--kubeconfig=${kubeconfigPath}`,
            `--config=${bin('kwok-stages.yaml')}`,
            `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
            `--node-ip=${host}`,
            `--cidr=${POD_CIDR}`,
            // Without a lease the node controller marks the node NotReady after its grace period.
            '--node-lease-duration-seconds=40',
          ],
        ),
      );
      for (const name of nodes) {
        const r = await apiRequest(conn, 'POST', '/api/v1/nodes', fakeNode(name));
        if (r.status !== 201) throw new StartError(`creating kwok node ${name}: HTTP ${r.status} ${r.body}`);
      }
      waitFirst.push(
        waitFor(`kwok nodes Ready (${nodes.join(', ')})`, deadline, [etcd, apiserver, kwok], async () => {
          for (const name of nodes) {
            const r = await apiRequest(conn, 'GET', `/api/v1/nodes/${name}`);
            if (r.status !== 200) return false;
            const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
            if (!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
          }
          return true;
        }),
      );
    }
    await Promise.all(waitFirst);
    if (netns) {
      const node = await startRealNode({ dir, f, pki, host, conn, deadline, log, bin, track, proc, watched: [etcd, apiserver], cleanup: cleanups });
      nodes.push(node);
    }
    log(`cluster ready in ${Date.now() - t0} ms (${procs.map((p) => p.name).join(', ')})`);

    const cluster: Cluster = {
      kubeconfigPath,
      server,
      dir,
      caCertPath: f('ca.crt'),
      serviceAccountIssuer: SA_ISSUER,
      logs,
      nodes,
      ...(netns ? { netns: { name: netns.name, path: netns.path, nodeIP: netns.nodeIP, hostIP: netns.hostIP } } : {}),
      async restartApiServer(ropts = {}) {
        if (stopping) throw new Error('cluster is stopped');
        const t = Date.now();
        await stopProc(apiserver);
        procs.splice(procs.indexOf(apiserver), 1);
        if (ropts.whileDown) await ropts.whileDown();
        apiserver = startApiServer();
        await waitApiReady(apiserver, Date.now() + startTimeout);
        log(`kube-apiserver restarted in ${Date.now() - t} ms`);
      },
      stop: stopAll,
    };
    return cluster;
  } catch (err) {
    const msg = [
      `startCluster failed: ${(err as Error).message}`,
      `logs (kept in ${dir}):`,
      ...procs.map((p) => `  ${p.name}: ${p.logPath}`),
    ].join('\n');
    // Stop what started, but keep the directory so the logs can be read.
    stopping ??= (async () => {
      for (const p of [...procs].reverse()) await stopProc(p);
      runCleanups();
      watchdog.kill('SIGKILL');
    })();
    await stopping;
    throw new Error(msg, { cause: err });
  }
}

interface RealNodeContext {
  dir: string;
  f: (name: string) => string;
  pki: Pki;
  host: string;
  conn: Conn;
  deadline: number;
  log: (msg: string) => void;
  bin: (name: string) => string;
  track: (p: Proc) => Proc;
  proc: (name: string, binary: string, args: string[]) => Proc;
  watched: Proc[];
  cleanup: (() => void)[];
}

/** containerd (+ the built images), kubelet and kube-proxy inside the cluster's namespace; resolves when the node is Ready. */
async function startRealNode(c: RealNodeContext): Promise<string> {
  const t0 = Date.now();
  const images = builtImages(IMAGES_LIST);
  if (!images.some((i) => i.tag === PAUSE_IMAGE)) throw new StartError(`the sandbox image ${PAUSE_IMAGE} is not built: run \`bash test/k8s/images.sh\``);
  const nodeKubeconfig = c.f('node.kubeconfig');
  await writeFile(nodeKubeconfig, kubeconfig(`https://${c.host}:${c.conn.port}`, c.pki, c.pki.nodeCert, c.pki.nodeKey), { mode: 0o600 });
  const files = await writeNodeConfig({
    dir: path.join(c.dir, 'node'),
    nodeIP: c.host,
    nodeName: NODE_NAME,
    caCertPath: c.f('ca.crt'),
    kubeconfigPath: c.f('admin.kubeconfig'),
    pauseImage: PAUSE_IMAGE,
    podCIDR: NODE_POD_CIDR,
    cgroupName: `ome-mcp-${path.basename(c.dir)}`,
    clusterDNS: c.host,
  });
  c.cleanup.push(() => cleanupNodeLeftovers(files.cgroupRoot, files.cniNetwork));
  c.cleanup.push(() => killNodeProcesses(files.cgroupRoot, c.dir));

  const dns = c.track(c.proc('dns', process.execPath, ['--import', 'tsx', DNS_SCRIPT, c.host, c.f('admin.kubeconfig'), CLUSTER_DNS_DOMAIN]));
  const containerd = c.track(c.proc('containerd', 'containerd', ['--config', files.containerdConfig]));
  await waitFor('containerd socket', c.deadline, [containerd], async () => existsSync(files.containerdSocket));
  // One import per archive: images cannot be pulled here (imagePullPolicy Never / IfNotPresent).
  for (const image of images) {
    await execFileP('ctr', ['--address', files.containerdSocket, '-n', 'k8s.io', 'images', 'import', image.archive], { maxBuffer: 16 << 20 });
  }
  c.log(`containerd ready, ${images.length} images imported (${Date.now() - t0} ms)`);

  const kubelet = c.track(
    c.proc('kubelet', c.bin('kubelet'), [
      `--config=${files.kubeletConfig}`,
      `--kubeconfig=${nodeKubeconfig}`,
      `--root-dir=${path.join(c.dir, 'node', 'kubelet')}`,
      `--cert-dir=${path.join(c.dir, 'node', 'kubelet-pki')}`,
      `--node-ip=${c.host}`,
      `--hostname-override=${NODE_NAME}`,
      '--v=1',
    ]),
  );
  const proxy = c.track(c.proc('kube-proxy', c.bin('kube-proxy'), [`--config=${files.kubeProxyConfig}`, '--v=1']));
  await waitFor(`node ${NODE_NAME} Ready`, c.deadline, [...c.watched, dns, containerd, kubelet, proxy], async () => {
    const r = await apiRequest(c.conn, 'GET', `/api/v1/nodes/${NODE_NAME}`);
    if (r.status !== 200) return false;
    const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
    return !!node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
  });
  c.log(`node ${NODE_NAME} Ready (${Date.now() - t0} ms)`);
  return NODE_NAME;
}

function fakeNode(name: string): unknown {
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: {},
    status: { allocatable: resources, capacity: resources, nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake' } },
  };
}

// ---------------------------------------------------------------- shared cluster (vitest globalSetup)

/**
 * What test/k8s/global-setup.ts provides to test files as `inject('k8s')`.
 * Test files run in worker processes, so the cluster's methods are reached
 * through a small loopback control endpoint (`controlUrl`).
 */
export interface SharedClusterInfo {
  kubeconfigPath: string;
  server: string;
  dir: string;
  caCertPath: string;
  serviceAccountIssuer: string;
  nodes: string[];
  logs: Record<string, string>;
  /** http://127.0.0.1:<port>/<random token> */
  controlUrl: string;
}

/** Starts the loopback control endpoint for a cluster; returns its URL and a close function. */
export async function serveClusterControl(cluster: Cluster): Promise<{ url: string; close: () => Promise<void> }> {
  const token = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex');
  let busy: Promise<void> = Promise.resolve();
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'POST' || u.pathname !== `/${token}/restart-apiserver`) {
      res.writeHead(404).end();
      return;
    }
    const downMs = Number(u.searchParams.get('downMs') ?? 0);
    const run = busy.then(() => cluster.restartApiServer(downMs > 0 ? { whileDown: () => sleep(downMs) } : {}));
    busy = run.catch(() => {});
    run.then(
      () => res.writeHead(200, { 'content-type': 'text/plain' }).end('restarted\n'),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String((err as Error)?.message ?? err)),
    );
  });
  srv.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  srv.unref();
  const addr = srv.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}/${token}`,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/**
 * Restarts the kube-apiserver of the suite's shared cluster from a test file:
 * `await restartSharedApiServer(inject('k8s'))`. `downMs` keeps it stopped that
 * long before starting it again. Resolves once /readyz is 200 again.
 */
export async function restartSharedApiServer(info: Pick<SharedClusterInfo, 'controlUrl'>, opts: { downMs?: number } = {}): Promise<void> {
  const url = `${info.controlUrl}/restart-apiserver${opts.downMs ? `?downMs=${opts.downMs}` : ''}`;
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (d: Buffer) => chunks.push(d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  if (res.status !== 200) throw new Error(`restarting kube-apiserver failed: HTTP ${res.status} ${res.body}`);
}
