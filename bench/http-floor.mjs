#!/usr/bin/env node
// Calibration server for the bench: plain node:http answering every POST /mcp in process, as the
// echo tool would (initialize, notifications, tools/call echo) — no MCP server, no stdio. It shows
// what HTTP itself costs on this machine with this load generator: no stdio→HTTP bridge can beat it.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const json = { 'content-type': 'application/json' };
http
  .createServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(req.url === '/healthz' ? 200 : 405).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (msg.id === undefined) return void res.writeHead(202).end();
      if (msg.method === 'initialize') {
        const result = { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'http-floor', version: '1.0.0' } };
        return void res.writeHead(200, { ...json, 'mcp-session-id': randomUUID() }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      }
      const result = { content: [{ type: 'text', text: msg.params?.arguments?.text }] };
      res.writeHead(200, json).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  })
  .listen(port, '127.0.0.1');
