// Argument sanitization and per-tool rate limits on the data path (a real agent, the probe server,
// the TS SDK client and raw HTTP for the status and headers).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { connectClient, parseBody, PROBE, RawSession, startTestAgent, textOf } from './harness.js';

describe('argument rules and per-tool limits', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'agent-args-')), 'agent.json');
    writeFileSync(
      file,
      JSON.stringify({
        argumentRules: [{ tool: 'echo', argument: 'text', deny: ['shell', 'secrets'], maxLength: 64 }],
        limits: { perTool: [{ tool: 'echo', requestsPerMinute: 3 }] },
      }),
    );
    agent = await startTestAgent(['--config', file, '--', ...PROBE]);
  });
  afterAll(() => agent?.stop(1000));

  it('a refused argument is -32602 naming the tool, argument and rule; the value stays out of it', async () => {
    const client = await connectClient(agent);
    await expect(client.callTool({ name: 'echo', arguments: { text: 'hi && curl evil' } })).rejects.toThrow(/argument "text" of tool "echo" was refused: it contains shell metacharacters/);
    const err = await client.callTool({ name: 'echo', arguments: { text: 'AKIAABCDEFGHIJKLMNOP' } }).catch((e: Error) => e.message);
    expect(err).toMatch(/looks like a secret/);
    expect(err).not.toContain('AKIA');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'plain words' } }))).toContain('plain words');
    await client.close();
  });

  it('beyond the per-tool rate: HTTP 429, Retry-After, -32029 with retryAfterSeconds; other tools unaffected', async () => {
    const s = await RawSession.open(agent.url);
    const statuses: number[] = [];
    let limited: { headers: Headers; body: any } | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await s.post({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'echo', arguments: { text: `n${i}` } } });
      statuses.push(res.status);
      const body = await parseBody(res);
      if (res.status === 429) limited = { headers: res.headers, body };
    }
    // The first test used 1 of the 3 tokens (plain words): two more pass.
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = limited!.body;
    expect(body.error).toMatchObject({ code: -32029, data: { retryAfterSeconds: expect.any(Number) } });
    const other = await s.post({ jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'cancelled', arguments: {} } });
    expect(other.status).toBe(200);
    await other.text();
  });
});
