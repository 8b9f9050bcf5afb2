/**
 * Runs an (injected) pod spec as local processes, the way a kubelet would, closely enough to test
 * the agent and the in-pod bridges without a container runtime:
 * - volumes: emptyDir → a temp dir; configMap → a temp dir with the given data; projected → an
 *   empty dir (no API token here); paths in commands,
 *   args and env that start with a container's mountPath are rewritten to the host directory;
 * - images: each image maps to its entrypoint (used when a container has no `command`) and to host
 *   files standing in for files of the image (e.g. the agent image's /usr/local/bin/busybox);
 * - env: `value` and the downward API (metadata.name/namespace), `$(VAR)` expansion in command and
 *   args as Kubernetes does it;
 * - order: init containers run to completion one by one; native sidecars (restartPolicy Always)
 *   start and must pass their startup probe before the next container starts; then the containers;
 * - restarts: with restartPolicy Always an exited container is started again (kubelet);
 * - network: the pod's network namespace is the host loopback, so a `0.0.0.0` argument becomes
 *   `127.0.0.1` (the one deliberate change to the injected arguments).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface ImageSpec {
  /** The image's ENTRYPOINT + CMD, used when the container has no command. */
  entrypoint?: string[];
  /** Files of the image: container path → host path. */
  files?: Record<string, string>;
}

export interface RunPodOptions {
  pod: V1Pod;
  images: Record<string, ImageSpec>;
  /** ConfigMaps by name: key → content. */
  configMaps?: Record<string, Record<string, string>>;
  /** Working directory of every process (default: this process's). */
  cwd?: string;
  /** Extra env for every process (e.g. PATH). */
  env?: Record<string, string>;
  /** Delay before a container is restarted (default 200 ms; the kubelet backs off from 10 s). */
  restartDelayMs?: number;
  /** Each output line, prefixed with the container name. */
  onOutput?: (container: string, line: string) => void;
}

export interface RunningContainer {
  name: string;
  process: ChildProcess | undefined;
  restarts: number;
  argv: string[];
}

export interface RunningPod {
  dir: string;
  containers: Map<string, RunningContainer>;
  /** Kills a container's process (the runner restarts it under restartPolicy Always). */
  kill(name: string, signal?: NodeJS.Signals): void;
  /** Resolves when the container's readiness probe passes. */
  waitReady(name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function expand(value: string, env: Record<string, string>): string {
  // $(VAR) → value if defined, $$(VAR) → literal $(VAR): Kubernetes' dependent-variable rules.
  return value.replace(/\$\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, escaped: string, name: string) =>
    escaped !== undefined ? `$(${escaped})` : (env[name] ?? m),
  );
}

async function probeOnce(probe: V1Probe | undefined): Promise<boolean> {
  if (!probe?.httpGet) return true;
  const port = probe.httpGet.port;
  try {
    const res = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 400;
  } catch {
    return false;
  }
}

async function waitProbe(probe: V1Probe | undefined, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probeOnce(probe))) {
    if (Date.now() > deadline) throw new Error(`${what}: probe ${probe?.httpGet?.path} did not pass within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runPod(o: RunPodOptions): Promise<RunningPod> {
  const spec = o.pod.spec!;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pod-runner-'));
  const volumes = new Map<string, string>();
  for (const v of spec.volumes ?? []) {
    const host = path.join(dir, 'volumes', v.name);
    await mkdir(host, { recursive: true, mode: 0o777 });
    if (v.configMap) {
      const data = o.configMaps?.[v.configMap.name ?? ''];
      if (!data) throw new Error(`ConfigMap ${v.configMap.name} (volume ${v.name}) not given to the pod runner`);
      for (const [key, value] of Object.entries(data)) await writeFile(path.join(host, key), value);
    } else if (!v.emptyDir && !v.projected) {
      // projected (the service-account token volume the API server adds) stays an empty directory.
      throw new Error(`volume ${v.name}: only emptyDir, configMap and projected are supported by the pod runner`);
    }
    volumes.set(v.name, host);
  }

  const running = new Map<string, RunningContainer>();
  let stopping = false;

  const argvOf = (c: V1Container): { argv: string[]; env: Record<string, string> } => {
    const image = o.images[c.image ?? ''];
    if (!image) throw new Error(`container ${c.name}: no local stand-in for image ${c.image}`);
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = expand(e.value, env);
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = o.pod.metadata?.name ?? o.pod.metadata?.generateName ?? 'pod';
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = o.pod.metadata?.namespace ?? 'default';
      else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[e.name] = '127.0.0.1'; // the pod's network is loopback here
    }
    const command = c.command?.length ? c.command : image.entrypoint ?? [];
    const args = c.command?.length ? (c.args ?? []) : c.args?.length ? c.args : [];
    let argv = [...command, ...args].map((a) => expand(a, env));
    if (argv.length === 0) throw new Error(`container ${c.name}: nothing to run`);
    // Container paths → host paths: mounts first (longest first), then the image's own files.
    const mounts = (c.volumeMounts ?? []).map((m) => [m.mountPath, volumes.get(m.name)!] as const).sort((a, b) => b[0].length - a[0].length);
    const remap = (s: string) => {
      let out = s;
      const files = Object.entries(image.files ?? {}) as Array<readonly [string, string]>;
      for (const [mountPath, host] of [...mounts, ...files]) {
        // Only where a path starts: at the beginning, or after a blank, a redirection, = or a quote.
        const re = new RegExp(`(^|[\\s<>=:'"])${mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$|[\\s'"])`, 'g');
        out = out.replace(re, (_m, lead: string) => `${lead}${host}`);
      }
      return out;
    };
    argv = argv.map((a) => (a === '0.0.0.0' ? '127.0.0.1' : remap(a)));
    for (const [k, v] of Object.entries(env)) env[k] = remap(v);
    return { argv, env };
  };

  const start = (c: V1Container, restartAlways: boolean): RunningContainer => {
    const { argv, env } = argvOf(c);
    const rc: RunningContainer = running.get(c.name) ?? { name: c.name, process: undefined, restarts: 0, argv };
    running.set(c.name, rc);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...o.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rc.process = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          o.onOutput?.(c.name, buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    }
    child.on('error', (err) => o.onOutput?.(c.name, `spawn failed: ${err.message}`));
    child.on('exit', () => {
      if (rc.process !== child) return;
      rc.process = undefined;
      if (stopping || !restartAlways) return;
      setTimeout(() => {
        if (stopping) return;
        rc.restarts++;
        start(c, restartAlways);
      }, o.restartDelayMs ?? 200);
    });
    return rc;
  };

  const podRestartsAlways = (spec.restartPolicy ?? 'Always') === 'Always';
  try {
    for (const c of spec.initContainers ?? []) {
      if (c.restartPolicy === 'Always') {
        start(c, true);
        await waitProbe(c.startupProbe, `sidecar ${c.name}`, 30_000);
      } else {
        const rc = start(c, false);
        const code = await new Promise<number | null>((resolve) => rc.process!.once('exit', (code) => resolve(code)));
        if (code !== 0) throw new Error(`init container ${c.name} exited with ${code}`);
      }
    }
    for (const c of spec.containers) start(c, podRestartsAlways);
  } catch (err) {
    stopping = true;
    for (const rc of running.values()) rc.process?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const all = [...(spec.initContainers ?? []), ...spec.containers];
  return {
    dir,
    containers: running,
    kill: (name, signal = 'SIGKILL') => running.get(name)?.process?.kill(signal),
    waitReady: (name, timeoutMs = 30_000) => {
      const c = all.find((x) => x.name === name);
      if (!c) throw new Error(`no container ${name}`);
      return waitProbe(c.readinessProbe, `container ${name}`, timeoutMs);
    },
    async stop() {
      stopping = true;
      const exits = [...running.values()].map((rc) => {
        const p = rc.process;
        if (!p) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const t = setTimeout(() => p.kill('SIGKILL'), 5000);
          p.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          p.kill('SIGTERM');
        });
      });
      await Promise.all(exits);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The static busybox the agent image ships: Debian's busybox-static when installed; otherwise a
 * stand-in script that runs `busybox sh …` as `/bin/sh …` (enough for the init script and the
 * FIFO wrapper), so the runner also works where busybox-static is not installed.
 */
export function localBusybox(): string {
  const wanted = process.env.OME_MCP_BUSYBOX; // a path, or "standin" to force the script
  if (wanted && wanted !== 'standin') return wanted;
  if (!wanted && existsSync('/usr/bin/busybox')) return '/usr/bin/busybox';
  const shim = path.join(os.tmpdir(), `busybox-standin-${process.pid}`);
  if (!existsSync(shim)) {
    writeFileSync(shim, '#!/bin/sh\n# stand-in for `busybox sh …`\n[ "$1" = sh ] || { echo "busybox stand-in: only sh" >&2; exit 127; }\nshift\nexec /bin/sh "$@"\n', { mode: 0o755 });
  }
  return shim;
}

/**
 * The agent image as the runner plays it: `node dist/agent.js` (or $OME_MCP_AGENT_JS) and the
 * static busybox it ships at /usr/local/bin/busybox (Debian's busybox-static on the host).
 */
export function localAgentImage(busybox = localBusybox()): ImageSpec {
  return { entrypoint: [process.execPath, process.env.OME_MCP_AGENT_JS ?? `${ROOT}dist/agent.js`], files: { '/usr/local/bin/busybox': busybox } };
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/agent.js only when it is missing or older than the sources: `npm test` builds before
 * the tests, and rewriting the bundle while other test files run it would make them flaky.
 */
export function ensureAgentBundle(): void {
  if (process.env.OME_MCP_AGENT_JS) return;
  const bundle = path.join(ROOT, 'dist/agent.js');
  const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(newestSource(path.join(ROOT, 'agent')), newestSource(path.join(ROOT, 'api')));
  if (!fresh) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

/** An MCP client (streamable HTTP) connected to the agent on the pod's port. */
export async function connectMcp(port: number): Promise<Client> {
  const client = new Client({ name: 'pod-runner', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  return client;
}
