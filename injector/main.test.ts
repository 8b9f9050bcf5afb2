import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { helpText, parseOptions, UsageError } from './options.js';
import { generateTls } from './webhook/tls.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('injector options', () => {
  it('reads flags, env and defaults', () => {
    const o = parseOptions(['--agent-image', 'a:1', '--feature-gates', 'MCPServerSupport=true', '--agent-cpu-limit', '500m'], {});
    expect(o.settings.agentImage).toBe('a:1');
    expect(o.featureGates).toEqual({ MCPServerSupport: true });
    expect(o.settings.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(o.webhookPort).toBe(8443);
    expect(o.patchCaBundle).toBe(true);
    const e = parseOptions([], { OME_MCP_INJECTOR_AGENT_IMAGE: 'b:2', OME_MCP_INJECTOR_TLS_DIR: '/tls', OME_MCP_INJECTOR_WEBHOOK_PORT: '9443' });
    expect([e.settings.agentImage, e.tlsDir, e.webhookPort, e.patchCaBundle]).toEqual(['b:2', '/tls', 9443, false]);
  });

  it('refuses bad values with a usage error', () => {
    for (const argv of [[], ['--agent-image', 'a', '--webhook-port', 'x'], ['--agent-image', 'a', '--feature-gates', 'X'], ['--agent-image', 'a', '--agent-memory-limit', 'lots'], ['--bogus']]) {
      expect(() => parseOptions(argv, {}), argv.join(' ')).toThrow(UsageError);
    }
    expect(helpText()).toMatch(/--agent-image/);
  });
});

describe('ome-mcp-injector CLI', () => {
  it('serves admissions with a mounted certificate, reports health, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'injector-'));
    try {
      const tls = await generateTls({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
      await writeFile(path.join(dir, 'tls.crt'), tls.cert);
      await writeFile(path.join(dir, 'tls.key'), tls.key);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'injector/main.ts', '--agent-image', 'agent:t', '--tls-dir', dir, '--webhook-host', '127.0.0.1', '--webhook-port', '0', '--health-host', '127.0.0.1', '--health-port', '0', '--shutdown-delay', '0'],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let log = '';
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const started = await new Promise<{ webhook: string; health: string }>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`injector did not start: ${log}`)), 20_000);
        child.stderr.on('data', () => {
          const line = log.split('\n').find((l) => l.includes('ome-mcp-injector started'));
          if (line) {
            clearTimeout(t);
            resolve(JSON.parse(line) as { webhook: string; health: string });
          }
        });
        child.once('exit', (code) => reject(new Error(`injector exited ${code}: ${log}`)));
      });
      expect(await (await fetch(`${started.health}/healthz`)).text()).toBe('ok\n');
      expect((await fetch(`${started.health}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${started.health}/metrics`)).text()).toMatch(/ome_mcp_injector_/);
      const review = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: 'x', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: { metadata: { annotations: { 'mcp.ome.io/inject': 'true' } }, spec: { containers: [{ name: 'mcp', image: 'i', command: ['s'] }] } } },
      });
      const url = new URL(started.webhook);
      const answer = await new Promise<string>((resolve, reject) => {
        const req = https.request({ host: url.hostname, port: url.port, path: '/inject/pod', method: 'POST', ca: tls.ca }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(review);
      });
      expect(JSON.parse(answer).response.patchType).toBe('JSONPatch');
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', (c) => resolve(c));
        child.kill('SIGTERM');
      });
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
