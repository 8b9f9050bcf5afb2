// Human approval on the real node: an MCPServer whose spec.approval names a tool; a TypeScript SDK
// client that answers the agent's elicitation runs it on accept and gets a tool error on decline,
// and the decision is in the agent's audit log.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { textOf } from '../agent/harness.js';
import { everythingServer, kubectl, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-approval';
const NAME = 'everything-approval';
const SERVER = everythingServer(NAME, NS, `  approval:
    destructiveTools: false
    tools: [get-sum]
    timeout: 30s
`);

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
let forward: PortForward;
beforeAll(async () => {
  await kubectl(['create', 'namespace', NS]).catch(() => {});
  await kubectl(['apply', '-f', '-'], { input: SERVER });
  await waitReady('mcpserver', NAME, NS);
  forward = await portForward(NS, `svc/mcp-${NAME}`, 8080);
});
afterAll(async () => {
  forward?.close();
  await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => {});
});

async function client(approve: boolean, asked: string[]): Promise<Client> {
  const c = new Client({ name: 'approver', version: '1' }, { capabilities: { elicitation: {} } });
  c.setRequestHandler(ElicitRequestSchema, (req) => {
    asked.push(req.params.message);
    return approve ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
  });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${forward.port}/mcp`)));
  return c;
}

describe('approval from the MCPServer spec', () => {
  it('the person is asked; accept runs the tool, decline does not; both are audited', async () => {
    const asked: string[] = [];
    const yes = await client(true, asked);
    expect(textOf(await yes.callTool({ name: 'echo', arguments: { message: 'no question' } }))).toContain('no question');
    expect(asked).toHaveLength(0);
    expect(textOf(await yes.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toMatch(/5/);
    expect(asked[0]).toMatch(/Allow the tool "get-sum" to run\?.*approval rule names it.*"a":2/s);
    const no = await client(false, asked);
    const refused = await no.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/was not run: it needs approval and the person declined/);
    await Promise.all([yes.close(), no.close()]);

    const logs = await kubectl(['-n', NS, 'logs', `deployment/mcp-${NAME}`, '-c', 'mcp-agent']);
    const lines = logs.split('\n').filter((l) => l.includes('"method":"approval"')).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reason)).toEqual(['approval: accept', 'approval: decline']);
  });
});
