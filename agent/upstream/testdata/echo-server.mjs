#!/usr/bin/env node
// A real stdio MCP server for the bridge tests (v1 SDK: McpServer + StdioServerTransport):
// tools `echo` and `pid`. Like most stdio servers it exits when its stdin reaches EOF.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bridge-echo', version: '1.0.0' });
server.registerTool('echo', { description: 'Returns its text.', inputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text }],
}));
server.registerTool('pid', { description: 'Returns the server process id.', inputSchema: {} }, async () => ({
  content: [{ type: 'text', text: String(process.pid) }],
}));
process.stdin.on('end', () => process.exit(0));
await server.connect(new StdioServerTransport());
process.stderr.write(`bridge-echo ready pid=${process.pid}\n`);
