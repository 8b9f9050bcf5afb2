// Zero downtime on the real node for 2026-07-28 (stateless) clients: a client pod calls a tool
// through the Service without pause while the MCPServer rolls out a changed config (the config
// hash rolls the pods; surge-only rollout) and while one of its two replicas is deleted (the
// server's preStop keeps it serving until the endpoints have moved). Every call must succeed.
// 2025 sessions: with ClientIP affinity they stay on one replica; without it, their sealed ids
// let any replica go on with them, through pod deletions and rollouts.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { applyExamples, eventually, getJSON, kubectl, useCluster, waitReady } from './kubectl.js';

const NS = 'mcp-demo';
const SERVER = 'everything-fifo';
const DEPLOYMENT = `mcp-${SERVER}`;
const URL_IN_CLUSTER = `http://${DEPLOYMENT}.${NS}.svc.cluster.local:8080/mcp`;
useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
beforeAll(applyExamples);

/**
 * Runs in the client pod: sequential stateless tools/call requests, each on a new connection,
 * for argv[2] seconds; prints {ok, fail, errors}.
 */
const LOOP = String.raw`
const http = require('node:http');
const [url, seconds] = process.argv.slice(1);
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'rollout', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
const call = (i) => new Promise((resolve) => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { message: 'call-' + i }, _meta: meta } });
  const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
    let data = '';
    res.on('data', (c) => (data += c));
    res.on('end', () => resolve(res.statusCode === 200 && data.includes('call-' + i + '"') ? null : 'HTTP ' + res.statusCode + ' ' + data.slice(0, 120)));
    res.on('error', (e) => resolve(e.code || e.message));
  });
  req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve(e.code || e.message));
  req.end(body);
});
(async () => {
  const end = Date.now() + Number(seconds) * 1000;
  let ok = 0, fail = 0, i = 0;
  const errors = {};
  while (Date.now() < end) {
    const e = await call(i++);
    if (e) { fail++; errors[e] = (errors[e] || 0) + 1; } else ok++;
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(JSON.stringify({ ok, fail, errors }));
})();
`;

/**
 * Runs in the client pod: one 2025-protocol session for argv[2] seconds at most (or until the
 * file argv[3] exists), tools/call after tools/call on new connections, never initializing
 * again; prints {ok, fail, resumed, maxGapMs, errors}.
 */
const SESSION_RUN = String.raw`
const http = require('node:http');
const fs = require('node:fs');
const [url, seconds, stopFile] = process.argv.slice(1);
const post = (body, session) => new Promise((resolve) => {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  if (session) headers['mcp-session-id'] = session;
  const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
    let data = '';
    res.on('data', (c) => (data += c));
    res.on('end', () => resolve({ status: res.statusCode, session: res.headers['mcp-session-id'], data }));
  });
  req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ status: 0, data: e.code || e.message }));
  req.end(JSON.stringify(body));
});
(async () => {
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'resume', version: '1' } } });
  const session = init.session;
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  const end = Date.now() + Number(seconds) * 1000;
  let ok = 0, fail = 0, resumed = 0, i = 0, last = Date.now(), maxGapMs = 0;
  const errors = {};
  while (Date.now() < end && !(stopFile && fs.existsSync(stopFile))) {
    i++;
    const r = await post({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { message: 'call-' + i } } }, session);
    if (r.data.includes('did not move with it')) resumed++;
    if (r.status === 200 && r.data.includes('call-' + i + '"')) { ok++; maxGapMs = Math.max(maxGapMs, Date.now() - last); last = Date.now(); } else { fail++; const e = 'HTTP ' + r.status + ' ' + r.data.slice(0, 80); errors[e] = (errors[e] || 0) + 1; }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(JSON.stringify({ session: !!session, sealed: String(session).startsWith('s1.'), ok, fail, resumed, maxGapMs, errors }));
})();
`;

/** The server back to its example state, and settled: rolled out and no old pod still terminating (the next test file picks pods). */
async function restore(patch: string[]): Promise<void> {
  await kubectl(['-n', NS, 'patch', 'mcpserver', SERVER, ...patch]).catch(() => {});
  await kubectl(['-n', NS, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=180s'], { timeoutMs: 190_000 }).catch(() => {});
  await eventually('the old pods gone', async () => {
    const all = (await getJSON(['-n', NS, 'get', 'pods', '-l', `mcp.ome.io/mcpserver=${SERVER}`])).items as { metadata: { deletionTimestamp?: string } }[];
    return all.length === 1 && all.every((p) => !p.metadata.deletionTimestamp);
  }, 120_000).catch(() => {});
}

const readyPods = async () =>
  (await getJSON(['-n', NS, 'get', 'pods', '-l', `mcp.ome.io/mcpserver=${SERVER}`])).items.filter(
    (p: { metadata: { deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }) =>
      !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );

describe('a 2025 session with two replicas', () => {
  it('stays on the replica that holds it (Service ClientIP affinity), connection after connection', async () => {
    await waitReady('mcpserver', SERVER, NS);
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/mcp-client', '--timeout=120s']);
    await kubectl(['-n', NS, 'patch', 'mcpserver', SERVER, '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    try {
      await kubectl(['-n', NS, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=180s'], { timeoutMs: 190_000 });
      expect((await readyPods()).length).toBe(2);
      expect((await getJSON(['-n', NS, 'get', 'service', DEPLOYMENT])).spec.sessionAffinity).toBe('ClientIP');
      const out = JSON.parse((await kubectl(['-n', NS, 'exec', 'mcp-client', '--', 'node', '-e', SESSION_RUN, URL_IN_CLUSTER, '8'], { timeoutMs: 120_000 })).trim().split('\n').pop()!);
      console.log(`[affinity] ${JSON.stringify(out)}`);
      expect(out.session).toBe(true);
      expect(out.fail, JSON.stringify(out.errors)).toBe(0);
      expect(out.resumed).toBe(0); // never left its replica
      expect(out.ok).toBeGreaterThan(40);
    } finally {
      await restore(['--type=merge', '-p', '{"spec":{"replicas":1}}']);
    }
  });
});

describe('zero-downtime changes (2026-07-28 stateless clients)', () => {
  it('no call fails during a config rollout and a replica deletion', async () => {
    await waitReady('mcpserver', SERVER, NS);
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/mcp-client', '--timeout=120s']);
    await kubectl(['-n', NS, 'patch', 'mcpserver', SERVER, '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    const rollout = () => kubectl(['-n', NS, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=180s'], { timeoutMs: 190_000 });
    try {
      await rollout();
      const loop = kubectl(['-n', NS, 'exec', 'mcp-client', '--', 'node', '-e', LOOP, URL_IN_CLUSTER, '70'], { timeoutMs: 150_000 });
      await new Promise((r) => setTimeout(r, 5000));

      // A change the agent cannot apply in place (a limit): the config hash on the pod template rolls the pods.
      const before = await getJSON(['-n', NS, 'get', 'deployment', DEPLOYMENT]);
      await kubectl(['-n', NS, 'patch', 'mcpserver', SERVER, '--type=merge', '-p', '{"spec":{"limits":{"maxConcurrentRequests":64}}}']);
      await rollout();
      const after = await getJSON(['-n', NS, 'get', 'deployment', DEPLOYMENT]);
      expect(after.spec.template.metadata.annotations['mcp.ome.io/config-hash']).not.toBe(before.spec.template.metadata.annotations['mcp.ome.io/config-hash']);

      // One of the two replicas deleted.
      const victim = (await readyPods())[0].metadata.name;
      await kubectl(['-n', NS, 'delete', 'pod', victim, '--wait=true'], { timeoutMs: 90_000 });
      await rollout();

      const summary = JSON.parse((await loop).trim().split('\n').pop()!) as { ok: number; fail: number; errors: Record<string, number> };
      console.log(`[rollout] ${JSON.stringify(summary)}`);
      expect(summary.fail, JSON.stringify(summary.errors)).toBe(0);
      expect(summary.ok).toBeGreaterThan(200);
    } finally {
      await restore(['--type=json', '-p', '[{"op":"remove","path":"/spec/limits"},{"op":"replace","path":"/spec/replicas","value":1}]']);
    }
  });
});

describe('a 2025 session without affinity (sealed session ids)', () => {
  it('goes on across the deletion of the pod that holds it and a rollout: 0 failed calls, no new initialize', async () => {
    await waitReady('mcpserver', SERVER, NS);
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/mcp-client', '--timeout=120s']);
    await kubectl(['-n', NS, 'patch', 'mcpserver', SERVER, '--type=merge', '-p', '{"spec":{"replicas":2,"sessionAffinity":"None"}}']);
    const rollout = () => kubectl(['-n', NS, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=180s'], { timeoutMs: 190_000 });
    try {
      await rollout();
      expect((await getJSON(['-n', NS, 'get', 'service', DEPLOYMENT])).spec.sessionAffinity).toBe('None');
      const secret = await getJSON(['-n', NS, 'get', 'secret', `${DEPLOYMENT}-state`]);
      expect(Object.keys(secret.data)).toContain('key');
      // Runs until the disruptions are over: the deleted pod may not be the owner, the rollout replaces every original pod.
      await kubectl(['-n', NS, 'exec', 'mcp-client', '--', 'rm', '-f', '/tmp/stop-session']);
      const run = kubectl(['-n', NS, 'exec', 'mcp-client', '--', 'node', '-e', SESSION_RUN, URL_IN_CLUSTER, '150', '/tmp/stop-session'], { timeoutMs: 200_000 });
      await new Promise((r) => setTimeout(r, 5000));
      const victim = (await readyPods())[0].metadata.name;
      await kubectl(['-n', NS, 'delete', 'pod', victim, '--wait=true'], { timeoutMs: 90_000 });
      await rollout();
      await kubectl(['-n', NS, 'patch', 'mcpserver', SERVER, '--type=merge', '-p', '{"spec":{"limits":{"maxConcurrentRequests":64}}}']);
      await rollout();
      // `rollout status` returns while the old pods still terminate (and serve): wait until they are gone.
      await eventually('the old pods gone', async () => {
        const all = (await getJSON(['-n', NS, 'get', 'pods', '-l', `mcp.ome.io/mcpserver=${SERVER}`])).items as { metadata: { deletionTimestamp?: string } }[];
        return all.every((p) => !p.metadata.deletionTimestamp);
      }, 90_000);
      await new Promise((r) => setTimeout(r, 3000));
      await kubectl(['-n', NS, 'exec', 'mcp-client', '--', 'touch', '/tmp/stop-session']);
      const out = JSON.parse((await run).trim().split('\n').pop()!) as { sealed: boolean; ok: number; fail: number; resumed: number; errors: Record<string, number> };
      console.log(`[sealed-session] ${JSON.stringify(out)}`);
      expect(out.sealed).toBe(true);
      expect(out.fail, JSON.stringify(out.errors)).toBe(0);
      expect(out.resumed).toBeGreaterThan(0);
      expect(out.ok).toBeGreaterThan(200);
    } finally {
      await restore(['--type=json', '-p', '[{"op":"remove","path":"/spec/limits"},{"op":"remove","path":"/spec/sessionAffinity"},{"op":"replace","path":"/spec/replicas","value":1}]']);
    }
  });
});
