/**
 * FIFO bridge vs direct stdio pipe: sequential round trips through the agent's transports,
 * same process, same server, one run, ratios beside raw numbers (shared/BENCHMARKING.md).
 *   - `cat`: raw transport cost (a JSON-RPC frame echoed back byte for byte)
 *   - MCP echo server: tools/call round trips (v1 SDK stdio server)
 * The FIFO rows run the server exactly as a pod does: `busybox sh -c 'exec "$0" "$@" <in >out' …`.
 *
 *   node --import tsx bench/fifo.ts [--calls 5000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureFifo, FifoUpstream } from '../agent/upstream/fifo.js';
import { StdioUpstream } from '../agent/upstream/stdio.js';
import type { UpstreamTransport } from '../agent/upstream/transport.js';
import { fifoWrapperScript } from '../injector/mutation/index.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000' } } });
const CALLS = Number(values.calls);
const ECHO = fileURLToPath(new URL('../agent/upstream/testdata/echo-server.mjs', import.meta.url));
const SHELL = existsSync('/usr/bin/busybox') ? ['/usr/bin/busybox', 'sh'] : ['/bin/sh'];

interface Row {
  name: string;
  perSec: number;
  p50: number;
  p99: number;
}

/** A transport with a request function; `init` performs the MCP handshake first. */
async function caller(t: UpstreamTransport, init: boolean): Promise<(text: string) => Promise<void>> {
  const waiting = new Map<number, () => void>();
  t.onmessage = (m) => {
    const id = (m as { id?: number }).id;
    if (typeof id === 'number') waiting.get(id)?.();
  };
  let id = 0;
  const call = (text: string) =>
    new Promise<void>((resolve) => {
      const n = ++id;
      waiting.set(n, () => {
        waiting.delete(n);
        resolve();
      });
      t.send(text.replace('"id":0', `"id":${n}`));
    });
  if (init) {
    await call(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }));
    t.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  }
  return call;
}

async function openPipe(argv: string[]): Promise<{ t: UpstreamTransport; stop: () => Promise<void> }> {
  const t = new StdioUpstream({ command: argv[0]!, args: argv.slice(1) });
  await t.start();
  return { t, stop: () => t.close() };
}

async function openFifo(argv: string[]): Promise<{ t: UpstreamTransport; stop: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-fifo-'));
  await ensureFifo(path.join(dir, 'in'));
  await ensureFifo(path.join(dir, 'out'));
  const server: ChildProcess = spawn(SHELL[0]!, [...SHELL.slice(1), '-c', fifoWrapperScript(dir), ...argv], { stdio: 'ignore' });
  const t = new FifoUpstream({ dir });
  await t.start();
  return {
    t,
    stop: async () => {
      await t.close();
      server.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Both paths open at once, measured in alternating blocks, so that a change in the machine's load
 * during the run hits both alike (sequential round trips are mostly process wake-ups).
 */
async function compare(label: string, argv: string[], frame: string, init: boolean): Promise<[Row, Row]> {
  const paths = [
    { name: `${label}, stdio pipe`, ...(await openPipe(argv)) },
    { name: `${label}, FIFO bridge`, ...(await openFifo(argv)) },
  ];
  const calls = await Promise.all(paths.map((p) => caller(p.t, init)));
  for (const call of calls) for (let i = 0; i < 500; i++) await call(frame);
  const lat: number[][] = [[], []];
  const busy = [0, 0];
  const rounds = 10;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const start = performance.now();
      for (let i = 0; i < CALLS / rounds; i++) {
        const t0 = performance.now();
        await calls[k]!(frame);
        lat[k]!.push(performance.now() - t0);
      }
      busy[k]! += performance.now() - start;
    }
  }
  for (const p of paths) await p.stop();
  return [0, 1].map((k) => {
    const l = lat[k]!.sort((a, b) => a - b);
    return { name: paths[k]!.name, perSec: (l.length / busy[k]!) * 1000, p50: l[Math.floor(l.length * 0.5)]!, p99: l[Math.floor(l.length * 0.99)]! };
  }) as [Row, Row];
}

const raw = '{"jsonrpc":"2.0","id":0,"result":{"content":[{"type":"text","text":"hello"}]}}';
const toolCall = '{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}';
const cat = existsSync('/usr/bin/busybox') ? ['/usr/bin/busybox', 'cat'] : ['cat'];

const rows = [await compare('cat', cat, raw, false), await compare('MCP echo', [process.execPath, ECHO], toolCall, true)];
console.log(`sequential round trips, ${CALLS} calls per path in 10 alternating blocks (after 500 warm-up); wrapper shell: ${SHELL.join(' ')}; load average ${os.loadavg()[0]!.toFixed(1)}`);
for (const [pipe, fifo] of rows) {
  for (const r of [pipe, fifo]) console.log(`  ${r.name.padEnd(24)} ${r.perSec.toFixed(0).padStart(7)} calls/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms`);
  console.log(`  ${''.padEnd(24)} FIFO/pipe: throughput ${(fifo.perSec / pipe.perSec).toFixed(2)}×, p50 ${(fifo.p50 / pipe.p50).toFixed(2)}×`);
}
