import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { MCPGatewayBackendStatus } from '../../../api/v1beta1/mcpgateway.js';
import { readAgentView, withAgentView, type AgentProbe } from './agent-view.js';

const pod = (name: string, ready: boolean, ip = '10.0.0.1'): V1Pod => ({
  metadata: { name, annotations: { 'mcp.ome.io/ops-port': '9091' } },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const health = (name: string, up: boolean, tools: number) => ({ name, up, detail: up ? 'up' : 'connect ECONNREFUSED', tools, restarts: 0 });

describe('readAgentView', () => {
  it("asks the first Ready pod's ops port; says why when it cannot", async () => {
    const asked: string[] = [];
    const probe: AgentProbe = async (url) => (asked.push(url), { ready: true, backends: [health('a', true, 3)] });
    expect(await readAgentView([pod('p-2', true), pod('p-1', false)], probe, 100)).toEqual({ pod: 'p-2', backends: [health('a', true, 3)] });
    expect(asked).toEqual(['http://10.0.0.1:9091/readyz']);
    expect(await readAgentView([pod('p-1', false)], probe, 100)).toEqual({ error: "no Ready gateway pod to ask: the agent's view of its backends is unknown" });
    const failing: AgentProbe = async () => {
      throw new Error('The operation was aborted due to timeout');
    };
    expect(await readAgentView([pod('p-1', true)], failing, 100)).toEqual({
      error: "the agent's /readyz (pod p-1, http://10.0.0.1:9091/readyz) could not be read: The operation was aborted due to timeout",
    });
  });
});

describe('withAgentView', () => {
  const status: MCPGatewayBackendStatus[] = [
    { name: 'a', server: 'a', url: 'http://mcp-a/mcp', ready: true, message: '1/1 replicas ready' },
    { name: 'b', server: 'b', url: 'http://mcp-b/mcp', ready: true, message: '1/1 replicas ready' },
    { name: 'ext', url: 'https://x/mcp', ready: true },
    { name: 'gone', server: 'gone', ready: false, reason: 'NotFound', message: 'MCPServer ns/gone not found' },
  ];
  it("tools and up from the agent; a backend the agent has down is not ready, in the agent's words", () => {
    const v = withAgentView(status, { pod: 'p-1', backends: [health('a', true, 13), health('b', false, 0), health('ext', true, 2)] });
    expect(v[0]).toEqual({ ...status[0], up: true, tools: 13 });
    expect(v[1]).toEqual({ name: 'b', server: 'b', url: 'http://mcp-b/mcp', up: false, tools: 0, ready: false, reason: 'BackendDown', message: 'the agent (pod p-1) has it down: connect ECONNREFUSED; the server: 1/1 replicas ready' });
    expect(v[2]).toEqual({ name: 'ext', url: 'https://x/mcp', ready: true, up: true, tools: 2, message: 'the agent has it up (pod p-1)' });
    expect(v[3]).toEqual(status[3]);
  });
  it('without the agent: up and tools unset, the reason in the message', () => {
    const v = withAgentView(status, { error: 'no Ready gateway pod to ask' });
    expect(v[0]).toEqual({ ...status[0], message: '1/1 replicas ready; no Ready gateway pod to ask' });
    expect(v[0]!.up).toBeUndefined();
    expect(v[3]).toEqual(status[3]);
  });
});
