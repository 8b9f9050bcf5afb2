// The attach bridge against a WebSocket server that speaks the API server's channel protocol
// (v5.channel.k8s.io / v4.channel.k8s.io) in front of a real stdio MCP server playing the
// container. There is no kubelet here: the "container" is a child process that survives
// detach/re-attach, as a container with stdin: true and stdinOnce: false does.
import { afterEach, describe, expect, it } from 'vitest';
import { AttachUpstream, parseAttachTarget, V4, V5, type AttachUpstreamOptions } from './attach.js';
import { FakeApiServer, type FakeApiOptions } from './testdata/fake-attach-server.js';
import { RpcClient } from './testdata/rpc.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(o: FakeApiOptions = {}, start = true) {
  const api = new FakeApiServer(o);
  const server = await api.listen();
  cleanup.push(() => api.close());
  if (start) api.startContainer();
  const connection = { server, options: async () => ({ headers: { Authorization: 'Bearer test-token' } }) };
  const make = (extra: Partial<AttachUpstreamOptions> = {}) => {
    const t = new AttachUpstream({ namespace: 'ns', pod: 'p', container: 'mcp', connection, minBackoffMs: 20, maxBackoffMs: 100, connectTimeoutMs: 5000, ...extra });
    cleanup.push(() => t.close());
    return t;
  };
  return { api, make };
}

describe('AttachUpstream', () => {
  it('speaks v5 with the API server and carries MCP over stdin/stdout', async () => {
    const { api, make } = await setup();
    const stderr: string[] = [];
    const t = make({ onStderrLine: (l) => stderr.push(l) });
    await t.start();
    expect(t.protocol).toBe(V5);
    expect(api.requests[0]!.url).toBe('/api/v1/namespaces/ns/pods/p/attach?container=mcp&stdin=true&stdout=true&stderr=true');
    expect(api.requests[0]!.protocols).toBe(`${V5},${V4}`);
    expect(api.requests[0]!.auth).toBe('Bearer test-token');
    const rpc = new RpcClient(t);
    expect((await rpc.initialize()).serverInfo.name).toBe('bridge-echo');
    for (let i = 0; i < 200; i++) expect(await rpc.call('echo', { text: `a${i}` })).toBe(`a${i}`);
    expect(stderr.join('\n')).toMatch(/bridge-echo ready/);
  });

  it('falls back to v4 when the server does not offer v5', async () => {
    const { make } = await setup({ accept: [V4] });
    const t = make();
    await t.start();
    expect(t.protocol).toBe(V4);
    expect((await new RpcClient(t).initialize()).serverInfo.name).toBe('bridge-echo');
  });

  it('retries with v4 alone when a proxy refuses a handshake that offers v5', async () => {
    const { api, make } = await setup({ refuseV5: true });
    const t = make();
    await t.start();
    expect(t.protocol).toBe(V4);
    expect(api.requests.map((r) => r.protocols)).toEqual([`${V5},${V4}`, V4]);
    expect((await new RpcClient(t).initialize()).serverInfo.name).toBe('bridge-echo');
  });

  it('waits with backoff while the container is not running yet', async () => {
    const { api, make } = await setup({}, false);
    const t = make();
    const starting = t.start();
    await new Promise((r) => setTimeout(r, 150));
    api.startContainer();
    await starting;
    expect(t.attempts).toBeGreaterThan(1);
    expect((await new RpcClient(t).initialize()).serverInfo.name).toBe('bridge-echo');
  });

  it('fails at once on 403 with a hint about RBAC, and gives up after connectTimeoutMs', async () => {
    const denied = await setup({ failFirst: { count: 100, status: 403, message: 'pods "p" is forbidden' } });
    const t = denied.make();
    await expect(t.start()).rejects.toThrow(/HTTP 403: pods "p" is forbidden.*pods\/attach/);
    expect(t.attempts).toBe(1);

    const down = await setup({ failFirst: { count: 1000, status: 503, message: 'unavailable' } });
    const t2 = down.make({ connectTimeoutMs: 300 });
    await expect(t2.start()).rejects.toThrow(/cannot attach to ns\/p\/mcp: HTTP 503: unavailable/);
  });

  /** What the agent's upstream session does on every (re)start: attach, initialize; returns the server pid. */
  async function attachAndInitialize(make: () => AttachUpstream): Promise<{ t: AttachUpstream; pid: string }> {
    const t = make();
    await t.start();
    const rpc = new RpcClient(t);
    await rpc.initialize();
    return { t, pid: await rpc.call('pid') };
  }

  it('reports a container exit with its status; a new transport attaches to the restarted container', async () => {
    const { api, make } = await setup();
    const first = await attachAndInitialize(make);
    const closed = new Promise<string>((r) => (first.t.onclose = r));
    api.container!.kill('SIGKILL');
    expect(await closed).toMatch(/attach stream ended \(NonZeroExitCode: command terminated with non-zero exit code/);
    api.startContainer();
    expect((await attachAndInitialize(make)).pid).not.toBe(first.pid);
  });

  it('re-attaches to a container that kept running when the stream dropped', async () => {
    const { api, make } = await setup();
    const first = await attachAndInitialize(make);
    const closed = new Promise<string>((r) => (first.t.onclose = r));
    api.dropStreams();
    expect(await closed).toMatch(/attach stream ended \(websocket close/);
    // The agent re-initializes the same, still running server.
    expect((await attachAndInitialize(make)).pid).toBe(first.pid);
  });

  it('can half-close stdin on close (v5 close channel 255)', async () => {
    const { api, make } = await setup();
    const t = make({ closeStdinOnClose: true });
    await t.start();
    await new RpcClient(t).initialize();
    const container = api.container!;
    const exited = new Promise<number | null>((r) => container.once('exit', (code) => r(code)));
    await t.close();
    expect(api.received.some((b) => b.length === 2 && b[0] === 255 && b[1] === 0)).toBe(true);
    expect(await exited).toBe(0);
  });

  it('parses namespace/pod/container', () => {
    expect(parseAttachTarget('ns/p-1/mcp')).toEqual({ namespace: 'ns', pod: 'p-1', container: 'mcp' });
    expect(() => parseAttachTarget('ns/p')).toThrow(/<namespace>\/<pod>\/<container>/);
    expect(() => parseAttachTarget('$(OME_MCP_POD_NAMESPACE)/p/mcp')).toThrow();
  });
});

describe('AttachUpstream credentials', () => {
  it('fails at once when the credentials cannot be built, and reports retries while it waits', async () => {
    const broken = new AttachUpstream({
      namespace: 'ns',
      pod: 'p',
      container: 'mcp',
      connection: { server: 'http://127.0.0.1:1', options: async () => Promise.reject(new Error('token file missing')) },
    });
    await expect(broken.start()).rejects.toThrow(/cannot use the Kubernetes credentials .*token file missing/);
    expect(broken.attempts).toBe(1);

    const { make } = await setup({}, false);
    const waiting = make({ connectTimeoutMs: 400 });
    const errors: string[] = [];
    waiting.onerror = (e) => errors.push(e.message);
    await expect(waiting.start()).rejects.toThrow(/container mcp is not running/);
    expect(errors[0]).toMatch(/attach attempt 1 to ns\/p\/mcp failed \(HTTP 400: container mcp is not running\); retrying/);
  });
});
