// Operational settings of an MCPServer reach the agent and work, on the real node
// (manifests/examples/runnable/15-operational-settings.yaml): read-only tools, the request
// timeout, audit lines with redacted arguments, and the per-caller rate limit.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { textOf } from '../agent/harness.js';
import { modernPost, modernRequest } from '../agent/modern-harness.js';
import { applyExamples, getJSON, kubectl, mcpClient, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-demo';
useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
let forward: PortForward;
let url: string;
beforeAll(async () => {
  await applyExamples();
  await waitReady('mcpserver', 'everything-ops', NS);
  forward = await portForward(NS, 'svc/mcp-everything-ops', 8080);
  url = `http://127.0.0.1:${forward.port}/mcp`;
});
afterAll(() => forward?.close());

describe('operational settings from the MCPServer spec', () => {
  it('are in the agent config the reconciler wrote', async () => {
    const cm = await getJSON(['-n', NS, 'get', 'configmap', 'mcp-everything-ops-agent']);
    const config = JSON.parse(cm.data['agent.json']);
    expect(config).toMatchObject({ readOnly: true, sessionIdleTimeout: 600, limits: { requestTimeout: '3s', perPrincipal: { requestsPerMinute: 30 } }, audit: { includeArguments: true } });
  });

  it('read-only: only readOnlyHint tools are listed and callable; the timeout ends a long call; audit logs redacted arguments', async () => {
    const client = await mcpClient(url);
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    expect(tools.map((t) => t.name)).not.toContain('toggle-simulated-logging');
    await expect(client.callTool({ name: 'toggle-simulated-logging', arguments: {} })).rejects.toThrow();

    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'audit-marker-42', token: 'do-not-log-me' } }))).toContain('audit-marker-42');

    const t0 = Date.now();
    const slow = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 2 } }, undefined, { timeout: 30_000 }).then(
      (r) => ({ error: undefined, result: r }),
      (e: Error) => ({ error: e, result: undefined }),
    );
    const took = Date.now() - t0;
    expect(slow.error?.message ?? JSON.stringify(slow.result)).toMatch(/did not answer tools\/call within 3000 ms/);
    expect(took).toBeGreaterThan(2_500);
    expect(took).toBeLessThan(15_000);
    await client.close();

    const logs = await kubectl(['-n', NS, 'logs', 'deployment/mcp-everything-ops', '-c', 'mcp-agent']);
    const line = logs.split('\n').find((l) => l.includes('audit-marker-42'));
    expect(line, 'an audit line with the arguments').toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ audit: true, method: 'tools/call', target: 'echo', arguments: { message: 'audit-marker-42', token: '[REDACTED]' } });
    expect(logs).not.toContain('do-not-log-me');
  });

  it('argument rules and a per-tool rate limit from the spec: a refused argument names the rule; the third get-sum in a minute is 429', async () => {
    const refused = await (await modernPost(url, modernRequest(900, 'tools/call', { name: 'echo', arguments: { message: 'hi; rm -rf /' } }))).json();
    expect(refused.error).toMatchObject({ code: -32602, message: 'tools/call: argument "message" of tool "echo" was refused: it contains shell metacharacters' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await modernPost(url, modernRequest(910 + i, 'tools/call', { name: 'get-sum', arguments: { a: i, b: 1 } }));
      statuses.push(r.status);
      const body = await r.json();
      if (r.status === 429) expect(body.error).toMatchObject({ code: -32029, message: 'Rate limit exceeded for tool get-sum' });
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('rate limit per caller: beyond the burst, 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let body = '';
    for (let i = 0; i < 40; i++) {
      const r = await modernPost(url, modernRequest(i, 'tools/call', { name: 'echo', arguments: { message: `n${i}` } }));
      body = await r.text();
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        break;
      }
    }
    expect(JSON.parse(body).error).toMatchObject({ code: -32029, data: { retryAfterSeconds: Number(retryAfter) } });
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(5);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
