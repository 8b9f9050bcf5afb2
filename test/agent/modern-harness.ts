// Helpers for the 2026-07-28 tests: raw modern requests and v2 SDK clients.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import type { RunningAgent } from '../../agent/agent.js';

/** A 2026-07-28-only stdio server (v2 SDK). */
export const MODERN = ['node', 'test/fixtures/modern-server.mjs'];

export const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

export function modernPost(url: string, body: Record<string, any>, headers: Record<string, string | undefined> = {}): Promise<Response> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': body.method,
  };
  const name = body.params?.name ?? body.params?.uri;
  if (name !== undefined && ['tools/call', 'prompts/get', 'resources/read'].includes(body.method)) h['mcp-name'] = name;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete h[k];
    else h[k] = v;
  }
  return fetch(url, { method: 'POST', headers: h, body: JSON.stringify(body) });
}

export function modernRequest(id: number | string, method: string, params: Record<string, unknown> = {}, caps: Record<string, unknown> = {}) {
  return {
    jsonrpc: '2.0',
    id,
    method,
    params: { ...params, _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': caps, ...((params._meta as object) ?? {}) } },
  };
}

export async function v2Client(agent: RunningAgent, capabilities: Record<string, unknown> = {}, mode: 'auto' | 'pin' = 'auto'): Promise<ClientV2> {
  const client = new ClientV2(
    { name: 'v2-test', version: '1.0.0' },
    { capabilities, versionNegotiation: { mode: mode === 'auto' ? 'auto' : { pin: '2026-07-28' } } },
  );
  await client.connect(new TransportV2(new URL(agent.url)));
  return client;
}

