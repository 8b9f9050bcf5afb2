import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { PROBE, startTestAgent } from './harness.js';

/**
 * Sends a POST with a `kib` KiB Authorization header on `count` fresh raw connections, one after
 * another, and counts the outcomes: the status line read, or the socket error. It runs in a
 * child process: a client in the agent's own event loop never races the server's close.
 */
const CLIENT = `
const { connect } = require('node:net');
const [port, kib, count] = process.argv.slice(1).map(Number);
const request = 'POST /mcp HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\nAuthorization: Bearer '
  + 'x'.repeat(kib * 1024) + '\\r\\nContent-Length: 2\\r\\n\\r\\n{}';
const once = () => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1');
  let response = '', error;
  socket.setTimeout(10000, () => socket.destroy(new Error('timeout')));
  socket.on('data', (d) => (response += d));
  socket.on('error', (e) => (error = e.code || e.message));
  socket.on('close', () => resolve(error || response.split('\\r\\n')[0]));
  socket.write(request);
});
(async () => {
  const outcomes = {};
  for (let i = 0; i < count; i++) { const o = await once(); outcomes[o] = (outcomes[o] || 0) + 1; }
  process.stdout.write(JSON.stringify(outcomes));
})();
`;

describe('HTTP framing limits', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('an oversized request header (a ~270 KB token) gets 431 and a graceful close, never a reset (50 tries)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', CLIENT, String(agent.port), '270', '50']);
    expect(JSON.parse(stdout)).toEqual({ 'HTTP/1.1 431 Request Header Fields Too Large': 50 });
  });
});
