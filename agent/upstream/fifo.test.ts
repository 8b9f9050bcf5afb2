import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fifoWrapperScript } from '../../injector/mutation/index.js';
import { ensureFifo, FifoUpstream } from './fifo.js';
import { RpcClient } from './testdata/rpc.js';

const ECHO = fileURLToPath(new URL('./testdata/echo-server.mjs', import.meta.url));
// The pod runs the wrapper under the agent image's static busybox; use it here when installed.
const SHELL = existsSync('/usr/bin/busybox') ? ['/usr/bin/busybox', 'sh'] : ['/bin/sh'];

let dir: string;
const children = new Set<ChildProcess>();
const transports = new Set<FifoUpstream>();

/** The server container: exactly the wrapped command the webhook writes, with a temp dir. */
function startServer(): ChildProcess {
  const child = spawn(SHELL[0]!, [...SHELL.slice(1), '-c', fifoWrapperScript(dir), process.execPath, ECHO], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function transport(options: Partial<ConstructorParameters<typeof FifoUpstream>[0]> = {}): FifoUpstream {
  const t = new FifoUpstream({ dir, ...options });
  transports.add(t);
  return t;
}

const exited = (c: ChildProcess) => new Promise<number | null>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ome-fifo-'));
});

/** What the pod's init container does before any long-running container starts. */
async function initContainer(): Promise<void> {
  await ensureFifo(path.join(dir, 'in'));
  await ensureFifo(path.join(dir, 'out'));
}
afterEach(async () => {
  for (const t of transports) await t.close();
  transports.clear();
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([...children].map(exited));
  await rm(dir, { recursive: true, force: true });
});

describe('FifoUpstream', () => {
  it('answers 2,000 sequential tool calls through the wrapped server', async () => {
    const t = transport();
    const starting = t.start(); // creates the FIFOs itself, then waits for the server
    while (!existsSync(path.join(dir, 'out'))) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    startServer();
    await starting;
    const rpc = new RpcClient(t);
    const init = await rpc.initialize();
    expect(init.serverInfo.name).toBe('bridge-echo');
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) expect(await rpc.call('echo', { text: `m${i}` })).toBe(`m${i}`);
    const ms = performance.now() - t0;
    console.log(`fifo bridge: 2000 sequential calls in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(20_000);
  }, 30_000);

  it('works when the server is there first (its shell blocks opening in)', async () => {
    const t = transport();
    await initContainer();
    startServer();
    await new Promise((r) => setTimeout(r, 200));
    await t.start();
    expect((await new RpcClient(t).initialize()).serverInfo.name).toBe('bridge-echo');
  });

  it('server restart: EOF closes the transport; a new one meets the restarted server and re-initializes', async () => {
    await initContainer();
    const t1 = transport();
    const s1 = startServer();
    await t1.start();
    const rpc1 = new RpcClient(t1);
    await rpc1.initialize();
    const pid1 = await rpc1.call('pid');
    const closed = new Promise<string>((resolve) => (t1.onclose = resolve));
    s1.kill('SIGKILL');
    expect(await closed).toMatch(/EOF/);
    expect(() => t1.send('{}')).toThrow(/not connected/);

    // What the agent's upstream session does after its backoff: a fresh transport, while the
    // kubelet restarts the server container.
    const t2 = transport();
    const starting = t2.start();
    await new Promise((r) => setTimeout(r, 100));
    startServer();
    await starting;
    const rpc2 = new RpcClient(t2);
    await rpc2.initialize();
    const pid2 = await rpc2.call('pid');
    expect(pid2).not.toBe(pid1);
    expect(await rpc2.call('echo', { text: 'after restart' })).toBe('after restart');
  }, 60_000);

  it('agent restart: closing the agent side gives the server EOF and it exits', async () => {
    await initContainer();
    const t = transport();
    const server = startServer();
    await t.start();
    await new RpcClient(t).initialize();
    await t.close();
    expect(await exited(server)).toBe(0);
    // The restarted server (kubelet) and a new agent find each other again.
    const t2 = transport();
    startServer();
    await t2.start();
    expect((await new RpcClient(t2).initialize()).serverInfo.name).toBe('bridge-echo');
  }, 20_000);

  it('start() can be abandoned: close() while waiting, or a timeout', async () => {
    const waiting = transport();
    const p = waiting.start();
    await new Promise((r) => setTimeout(r, 100));
    await waiting.close();
    await expect(p).rejects.toThrow(/closed while waiting/);

    let noticed = 0;
    const timed = transport({ openTimeoutMs: 150, waitingNoticeMs: 50, onWaiting: (ms) => (noticed = ms) });
    await expect(timed.start()).rejects.toThrow(/did not open .*in within 150 ms/);
    expect(noticed).toBeGreaterThanOrEqual(50);
  });

  it('refuses a regular file where a FIFO belongs', async () => {
    await writeFile(path.join(dir, 'in'), 'x');
    await expect(transport().start()).rejects.toThrow(/exists but is not a FIFO/);
  });
});
