#!/usr/bin/env node
// Stdio MCP server for bench/aggregate.ts: TOOLS (default 50) tools named tool-0 … tool-<n-1>,
// each with a small input schema, plus `echo`. Built with the v1 SDK's low-level Server so the
// list costs what the SDK costs, not what a schema library does.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const count = Number(process.env.TOOLS ?? 50);
const schema = { type: 'object', properties: { text: { type: 'string', description: 'Any text.' } }, required: ['text'] };
const tools = [
  { name: 'echo', description: 'Returns its text argument unchanged.', inputSchema: schema, annotations: { readOnlyHint: true } },
  ...Array.from({ length: count }, (_, i) => ({ name: `tool-${i}`, description: `Generated tool number ${i}, which does nothing useful.`, inputSchema: schema })),
];
const server = new Server({ name: 'bench-many-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (request) => ({ content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }] }));
await server.connect(new StdioServerTransport());
