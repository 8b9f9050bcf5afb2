#!/usr/bin/env node
// A stdio MCP server with no dependencies (one `echo` tool, line-delimited JSON-RPC), used to time
// the agent's own start-up (with bench/echo-server.mjs most of start-to-ready is the SDK's import
// time in the server, not the agent), and by Dockerfile.agent to fill the image's compile cache.
import { createInterface } from 'node:readline';

const tool = { name: 'echo', description: 'Returns its text argument unchanged.', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } };
const send = (msg) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg.id === undefined) return;
  switch (msg.method) {
    case 'initialize':
      return send({ id: msg.id, result: { protocolVersion: msg.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'bench-echo-raw', version: '1.0.0' } } });
    case 'ping':
      return send({ id: msg.id, result: {} });
    case 'tools/list':
      return send({ id: msg.id, result: { tools: [tool] } });
    case 'tools/call':
      return send({ id: msg.id, result: { content: [{ type: 'text', text: String(msg.params?.arguments?.text ?? '') }] } });
    default:
      return send({ id: msg.id, error: { code: -32601, message: `Method not found: ${msg.method}` } });
  }
});
