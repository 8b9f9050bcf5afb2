#!/usr/bin/env node
// Minimal stdio MCP server for the benchmark: one `echo` tool, built with the v1 SDK
// (McpServer + StdioServerTransport). Every row of `npm run bench` talks to this same server.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
server.registerTool(
  'echo',
  {
    description: 'Returns its text argument unchanged.',
    inputSchema: { text: z.string() },
    annotations: { readOnlyHint: true },
  },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);
await server.connect(new StdioServerTransport());
