// Settings reach a running agent: its config file is swapped the way the kubelet updates a mounted
// ConfigMap (a new `..data` directory, one symlink rename), and the next call in the same session
// obeys the new Cedar policies and tool filter; a broken file keeps the last good set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningAgent } from '../../agent/agent.js';
import { ConfigMapDir, connectClient, PROBE, startTestAgent, textOf, waitFor } from './harness.js';

const policy = (...policies: string[]) => ({ authzConfig: { type: 'inline', inline: { policies } } });
const LIST = 'permit(principal, action == Action::"list_tools", resource);';

describe('agent config reload', () => {
  let cm: ConfigMapDir;
  let agent: RunningAgent;
  let client: Client;
  const call = (name: string, args: Record<string, unknown> = {}) =>
    client.callTool({ name, arguments: args }).then(
      (r) => (r.isError ? `error: ${textOf(r)}` : 'ok'),
      (e: Error) => `refused: ${e.message}`,
    );
  const reloads = async (result: string) => {
    const text = await (await fetch(agent.url.replace('/mcp', '/metrics'))).text();
    return Number(new RegExp(`ome_mcp_agent_config_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  beforeAll(async () => {
    cm = new ConfigMapDir({ ...policy(LIST, 'permit(principal, action == Action::"call_tool", resource == Tool::"echo");'), limits: { maxConcurrentRequests: 50 } });
    agent = await startTestAgent(['--config', cm.file, '--', ...PROBE]);
    client = await connectClient(agent);
  });
  afterAll(async () => {
    await client?.close();
    await agent?.stop(1000);
  });

  it('applies new Cedar policies in place: the same session obeys them within a second', async () => {
    expect(await call('echo', { text: 'hi' })).toBe('ok');
    expect(await call('sleep', { ms: 1 })).toMatch(/refused: .*Forbidden/);

    const t0 = Date.now();
    cm.write({ ...policy(LIST, 'permit(principal, action == Action::"call_tool", resource == Tool::"sleep");'), limits: { maxConcurrentRequests: 50 } });
    await waitFor(async () => (await call('sleep', { ms: 1 })) === 'ok', 5_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await call('echo', { text: 'hi' })).toMatch(/refused: .*Forbidden/);
    expect(await reloads('applied')).toBe(1);
  });

  it('reloads the tool filter too', async () => {
    cm.write({ ...policy(LIST, 'permit(principal, action == Action::"call_tool", resource);'), toolsFilter: ['echo'], limits: { maxConcurrentRequests: 50 } });
    await waitFor(async () => (await client.listTools()).tools.map((t) => t.name).join() === 'echo', 5_000);
    expect(await call('sleep', { ms: 1 })).toMatch(/refused/);
    expect(await call('echo', { text: 'hi' })).toBe('ok');
  });

  it('a broken file keeps the last good set, and says so in the metrics', async () => {
    const failedBefore = await reloads('failed');
    cm.write({ ...policy(LIST, 'permit(principal, action == , resource);'), limits: { maxConcurrentRequests: 50 } });
    await waitFor(async () => (await reloads('failed')) === failedBefore + 1, 5_000);
    cm.write('{ not json');
    await waitFor(async () => (await reloads('failed')) === failedBefore + 2, 5_000);
    expect(await call('echo', { text: 'still' })).toBe('ok');
    expect(await call('sleep', { ms: 1 })).toMatch(/refused/);
  });

  it('a change that takes a restart (limits) is not applied in place; the policy stays', async () => {
    const unchanged = await reloads('unchanged');
    cm.write({ ...policy(LIST, 'permit(principal, action == Action::"call_tool", resource);'), toolsFilter: ['echo'], limits: { maxConcurrentRequests: 1 } });
    await waitFor(async () => (await reloads('unchanged')) > unchanged, 5_000);
    expect(await call('echo', { text: 'hi' })).toBe('ok');
  });
});
