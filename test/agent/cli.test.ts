import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBE, RawSession, waitFor } from './harness.js';

// These run the bundled binary exactly as users do (`npm test` builds it first).
const AGENT = 'dist/agent.js';

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
    const [filePort, envPort, flagPort] = [0, 1, 2].map(() => 20000 + Math.floor(Math.random() * 20000));
    writeFileSync(config, `port: ${filePort}\nupstream:\n  command: [${PROBE.map((s) => JSON.stringify(s)).join(', ')}]\nlogLevel: warn\n`);
    const listensOn = async (args: string[], env: Record<string, string>, port: number) => {
      const child = spawn('node', [AGENT, '--config', config, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 10_000);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    };
    await listensOn([], {}, filePort!);
    await listensOn([], { OME_MCP_PORT: String(envPort) }, envPort!);
    await listensOn(['--port', String(flagPort)], { OME_MCP_PORT: String(envPort) }, flagPort!);
  });

  it('SIGTERM: refuses new sessions, finishes in-flight requests, then exits 0', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn('node', [AGENT, '--port', String(port), '--log-level', 'warn', '--', ...PROBE], { stdio: ['ignore', 'ignore', 'pipe'] });
    const url = `http://127.0.0.1:${port}/mcp`;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 10_000);
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
    const port = 20000 + Math.floor(Math.random() * 20000);
    const started = performance.now();
    const child = spawn('node', [AGENT, '--port', String(port), '--', ...PROBE], { stdio: 'ignore' });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 10_000, 10);
    const ms = performance.now() - started;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(ms).toBeLessThan(5000); // loose bound for a loaded CI machine; bench/ measures it properly
  });
});
