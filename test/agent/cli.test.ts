import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../free-port.js';
import { PROBE, RawSession, waitFor } from './harness.js';

// These run the bundled binary exactly as users do (`npm test` builds it first).
const AGENT = 'dist/agent.js';

/** Starts the binary and waits for /readyz; an agent that exits first fails the test with its stderr. */
async function startCli(args: string[], port: number, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const child = spawn('node', [AGENT, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitFor(async () => exited || (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 15_000, 10);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; agent stderr: ${stderr.slice(-2000)}`);
  }
  if (exited) throw new Error(`agent exited before it was ready; stderr: ${stderr.slice(-2000)}`);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('ome-mcp-agent CLI', () => {
  it('--help explains every option', () => {
    const r = spawnSync('node', [AGENT, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const flag of ['--port', '--upstream', '--session-mode', '--config', '--max-body-bytes', '--allowed-origins', '--tty']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('OME_MCP_');
  });

  it.each([
    [['--port', 'abc', '--', 'x'], /--port must be a number/],
    [['--session-mode', 'weird', '--', 'x'], /--session-mode must be one of shared, per-session/],
    [[], /no MCP server given/],
    [['--upstream', 'ftp://x', '--', 'x'], /exactly one of/],
    [['--nope'], /Unknown option '--nope'/],
  ])('rejects %j with a clear message and exit code 2', (args, message) => {
    const r = spawnSync('node', [AGENT, ...args], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('takes options from a YAML config file and env, flags winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
    const config = join(dir, 'agent.yaml');
    const [filePort, envPort, flagPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(config, `port: ${filePort}\nupstream:\n  command: [${PROBE.map((s) => JSON.stringify(s)).join(', ')}]\nlogLevel: warn\n`);
    const listensOn = async (args: string[], env: Record<string, string>, port: number) => {
      await stop(await startCli(['--config', config, ...args], port, { ...process.env, ...env }));
    };
    await listensOn([], {}, filePort!);
    await listensOn([], { OME_MCP_PORT: String(envPort) }, envPort!);
    await listensOn(['--port', String(flagPort)], { OME_MCP_PORT: String(envPort) }, flagPort!);
  });

  it('a client that only POSTs (and the probes) never loads Node\'s fetch implementation (undici, ~10 MB)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
    const report = join(dir, 'loaded.json');
    const preload = join(dir, 'report.mjs');
    writeFileSync(preload, `process.on('exit', () => process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici')))));\n`);
    const port = await freePort();
    const child = await startCli(['--port', String(port), '--log-level', 'warn', '--', ...PROBE], port, { ...process.env, NODE_OPTIONS: `--import ${preload}` });
    const s = await RawSession.open(`http://127.0.0.1:${port}/mcp`);
    expect(await s.call(1, 'echo', { text: 'hi' })).toBeDefined();
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    await stop(child);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual([]);
  });

  it('SIGTERM: refuses new sessions, finishes in-flight requests, then exits 0', async () => {
    const port = await freePort();
    const child = await startCli(['--port', String(port), '--log-level', 'warn', '--', ...PROBE], port);
    const url = `http://127.0.0.1:${port}/mcp`;
    const s = await RawSession.open(url);
    const slow = s.call(1, 'sleep', { ms: 600 });
    await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const result = await slow;
    expect(result.result.content[0].text).toBe('slept 600');
    expect(await exited).toBe(0);
  });

  it('becomes ready soon after starting', async () => {
    const port = await freePort();
    const started = performance.now();
    const child = await startCli(['--port', String(port), '--', ...PROBE], port);
    const ms = performance.now() - started;
    await stop(child);
    expect(ms).toBeLessThan(5000); // loose bound for a loaded CI machine; bench/ measures it properly
  });
});
