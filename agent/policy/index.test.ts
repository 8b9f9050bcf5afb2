import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../api/agent-config.js';
import { ErrorCode, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { createPolicyPipeline, isRefusal, type PolicyDeps, type PolicyPipeline, type Principal, type Refusal } from './index.js';
import { RESOURCE, startTestIdP, type TestIdP } from './testing/oidc.js';
import { bearerOnly } from './authn/credentials.js';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[]; raw: () => string } {
  const out: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void out.push(s) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), raw: () => out.join('') };
}
const req = (method: string, params?: Record<string, unknown>): JsonRpcRequest => ({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });
const open: PolicyPipeline[] = [];
async function pipeline(config: unknown, deps: Partial<PolicyDeps> = {}): Promise<PolicyPipeline> {
  const p = await createPolicyPipeline(parseAgentConfig(config), { logger: pino({ level: 'silent' }), ...deps });
  open.push(p);
  return p;
}
afterAll(async () => {
  for (const p of open) await p.close();
});

let idp: TestIdP;
beforeAll(async () => {
  idp = await startTestIdP();
});
afterAll(() => idp?.close());

const TOOLS = {
  tools: [
    { name: 'get_weather', annotations: { readOnlyHint: true } },
    { name: 'delete_repo', annotations: { readOnlyHint: false, destructiveHint: true } },
    { name: 'echo' },
    { name: 'secret_tool' },
  ],
  nextCursor: 'c1',
};

describe('without oidcConfig', () => {
  it('everyone is the anonymous principal, and a loud warning is logged once at start', async () => {
    const c = capture();
    const p = await pipeline({}, { logger: c.logger });
    const who = p.authenticate(bearerOnly(undefined)) as Principal;
    expect(who.key).toBe('anonymous');
    expect(p.authenticate(bearerOnly('Bearer whatever'))).toBe(who);
    expect(p.authenticationEnabled).toBe(false);
    const warnings = c.lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toContain('AUTHENTICATION IS OFF');
    expect(p.checkRequest(who, req('tools/call', { name: 'anything' }))).toBeNull();
    expect(p.checkRequest(who, req('some/unknown'))).toBeNull(); // the server answers it
    expect(p.protectedResourceMetadata()).toBeUndefined();
    expect(p.filterResult(who, 'tools/list', TOOLS)).toBe(TOOLS);
  });
});

describe('the whole pipeline: OIDC + Cedar + toolsFilter + capabilities', () => {
  let p: PolicyPipeline;
  let c: ReturnType<typeof capture>;
  let token: string;
  let alice: Principal;
  beforeAll(async () => {
    c = capture();
    p = await pipeline(
      {
        name: 'demo',
        resourceURL: RESOURCE,
        scopes: ['tools:call'],
        oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } },
        authzConfig: {
          type: 'inline',
          inline: {
            policies: [
              'permit(principal, action == Action::"call_tool", resource) when { resource.name != "secret_tool" };',
              'permit(principal, action == Action::"read_resource", resource) when { resource.uri like "file:///public/*" };',
              'forbid(principal, action == Action::"call_tool", resource == Tool::"echo") when { context has arg_text && context.arg_text like "*rm -rf*" };',
            ],
          },
        },
        toolsFilter: ['get_weather', 'delete_repo', 'echo', 'secret_tool'],
        capabilities: { tools: true, resources: true, prompts: false },
        audit: { includeArguments: true },
      },
      { logger: c.logger },
    );
    token = await idp.clientCredentialsToken();
    alice = (await p.authenticate(bearerOnly(`Bearer ${token}`))) as Principal;
  });

  it('authenticates, then answers from the token cache synchronously', () => {
    expect(isRefusal(alice)).toBe(false);
    expect(p.authenticate(bearerOnly(`Bearer ${token}`))).toBe(alice);
  });

  it('401 for a missing token carries the metadata pointer; the RFC 9728 document names the issuer', async () => {
    const r = (await p.authenticate(bearerOnly(undefined))) as Refusal;
    expect(r.status).toBe(401);
    expect(r.code).toBe(ErrorCode.Unauthorized);
    expect(r.headers['WWW-Authenticate']).toBe('Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"');
    expect(p.protectedResourceMetadata()).toEqual({
      resource: RESOURCE,
      authorization_servers: [idp.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['tools:call'],
    });
  });

  it('methods that bypass policy', () => {
    for (const m of ['initialize', 'ping', 'notifications/initialized', 'notifications/cancelled', 'logging/setLevel', 'server/discover']) {
      expect(p.checkRequest(alice, req(m))).toBeNull();
    }
  });

  it('tools/call: allowed, denied by Cedar (403), or unknown when filtered', () => {
    expect(p.checkRequest(alice, req('tools/call', { name: 'get_weather', arguments: { city: 'Oslo' } }))).toBeNull();
    const denied = p.checkRequest(alice, req('tools/call', { name: 'secret_tool' }))!;
    expect(denied.status).toBe(403);
    expect(denied.code).toBe(ErrorCode.Forbidden);
    const filtered = p.checkRequest(alice, req('tools/call', { name: 'not_in_filter' }))!;
    expect(filtered.status).toBe(200);
    expect(filtered.toError()).toEqual({ code: ErrorCode.InvalidParams, message: 'Unknown tool: not_in_filter' });
    // an argument-dependent forbid
    expect(p.checkRequest(alice, req('tools/call', { name: 'echo', arguments: { text: 'hello' } }))).toBeNull();
    expect(p.checkRequest(alice, req('tools/call', { name: 'echo', arguments: { text: 'please rm -rf /' } }))!.status).toBe(403);
    expect(p.checkRequest(alice, req('tools/call', { arguments: {} }))!.code).toBe(ErrorCode.InvalidParams);
  });

  it('a feature set that is off: its methods are "method not found" and it leaves initialize', () => {
    const r = p.checkRequest(alice, req('prompts/get', { name: 'greeting' }))!;
    expect(r.toError()).toEqual({ code: ErrorCode.MethodNotFound, message: 'Method not found: prompts/get' });
    expect(p.checkRequest(alice, req('prompts/list'))!.code).toBe(ErrorCode.MethodNotFound);
    const init = { protocolVersion: '2025-06-18', capabilities: { tools: { listChanged: true }, prompts: {}, resources: {}, logging: {} }, serverInfo: { name: 's', version: '1' } };
    const out = p.filterResult(alice, 'initialize', init);
    expect(out.capabilities).toEqual({ tools: { listChanged: true }, resources: {}, logging: {} });
    expect(init.capabilities.prompts).toEqual({}); // the cached upstream result is not mutated
  });

  it('methods no policy covers are denied while Cedar is on', () => {
    expect(p.checkRequest(alice, req('tasks/list'))!.status).toBe(403);
  });

  it('lists are filtered to what the principal may use (toolsFilter + Cedar), other fields kept', () => {
    const out = p.filterResult(alice, 'tools/list', TOOLS);
    expect((out.tools as { name: string }[]).map((t) => t.name)).toEqual(['get_weather', 'delete_repo', 'echo']);
    expect(out.nextCursor).toBe('c1');
    const res = p.filterResult(alice, 'resources/list', { resources: [{ uri: 'file:///public/a' }, { uri: 'file:///private/b' }] });
    expect(res.resources).toEqual([{ uri: 'file:///public/a' }]);
    const tpl = p.filterResult(alice, 'resources/templates/list', { resourceTemplates: [{ uriTemplate: 'file:///public/{x}' }, { uriTemplate: 'file:///etc/{x}' }] });
    expect(tpl.resourceTemplates).toEqual([{ uriTemplate: 'file:///public/{x}' }]);
    expect(p.checkRequest(alice, req('resources/read', { uri: 'file:///private/b' }))!.status).toBe(403);
    expect(p.checkRequest(alice, req('resources/subscribe', { uri: 'file:///public/a' }))).toBeNull();
  });

  it('completion/complete is authorized as the prompt or resource it completes for', () => {
    expect(p.checkRequest(alice, req('completion/complete', { ref: { type: 'ref/resource', uri: 'file:///public/{x}' }, argument: { name: 'x', value: 'a' } }))).toBeNull();
    expect(p.checkRequest(alice, req('completion/complete', { ref: { type: 'ref/resource', uri: 'file:///etc/{x}' } }))!.status).toBe(403);
    expect(p.checkRequest(alice, req('completion/complete', { ref: { type: 'ref/prompt', name: 'greeting' } }))!.code).toBe(ErrorCode.InvalidParams);
  });

  it('audits each decision: who, session, method, target, decision, policies, latency; never the token; arguments redacted', () => {
    p.checkRequest(alice, req('tools/call', { name: 'get_weather', arguments: { city: 'Oslo', apiKey: 'sk-123', nested: { password: 'hunter2' } } }), 'sess-1');
    const line = c.lines().filter((l) => l.audit === true && l.session === 'sess-1').at(-1)!;
    expect(line).toMatchObject({ sub: alice.sub, iss: idp.issuer, method: 'tools/call', target: 'get_weather', decision: 'allow', policies: ['policy0'] });
    expect(typeof line.latency_us).toBe('number');
    expect(line.arguments).toEqual({ city: 'Oslo', apiKey: '[REDACTED]', nested: { password: '[REDACTED]' } });
    expect(c.raw()).not.toContain(token);
    expect(c.raw()).not.toContain('sk-123');
    expect(c.raw()).not.toContain('hunter2');
    const denied = c.lines().filter((l) => l.audit === true && l.decision === 'deny' && l.target === 'secret_tool').at(-1)!;
    expect(denied.status).toBe(403);
  });
});

describe('read-only mode', () => {
  it('only tools the server annotates readOnlyHint: true are listed and callable', async () => {
    const p = await pipeline({ readOnly: true });
    const who = p.authenticate(bearerOnly(undefined)) as Principal;
    expect(p.checkRequest(who, req('tools/call', { name: 'get_weather' }))!.message).toBe('Unknown tool: get_weather'); // annotations not seen yet
    p.observeToolsList(TOOLS);
    expect(p.checkRequest(who, req('tools/call', { name: 'get_weather' }))).toBeNull();
    expect(p.checkRequest(who, req('tools/call', { name: 'delete_repo' }))!.message).toBe('Unknown tool: delete_repo');
    expect(p.checkRequest(who, req('tools/call', { name: 'echo' }))!.message).toBe('Unknown tool: echo');
    expect((p.filterResult(who, 'tools/list', TOOLS).tools as { name: string }[]).map((t) => t.name)).toEqual(['get_weather']);
  });
});

describe('limits', () => {
  it('per-principal token bucket: 429 with Retry-After', async () => {
    const p = await pipeline({ limits: { perPrincipal: { requestsPerMinute: 60, burst: 3 } } });
    const who = p.authenticate(bearerOnly(undefined)) as Principal;
    for (let i = 0; i < 3; i++) {
      const r = p.admit(who);
      expect(typeof r).toBe('function');
      (r as () => void)();
    }
    const r = p.admit(who) as Refusal;
    expect(r.status).toBe(429);
    expect(r.code).toBe(ErrorCode.RateLimited);
    expect(Number(r.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it('concurrency, global and per principal: 503 / -32006 until a slot is released', async () => {
    const p = await pipeline({ limits: { maxConcurrentRequests: 3, perPrincipal: { maxConcurrentRequests: 2 } } });
    const a: Principal = { key: 'a', sub: 'a', claims: {}, scopes: [] };
    const b: Principal = { key: 'b', sub: 'b', claims: {}, scopes: [] };
    const a1 = p.admit(a) as () => void;
    const a2 = p.admit(a) as () => void;
    const a3 = p.admit(a) as Refusal;
    expect(a3.status).toBe(503);
    expect(a3.code).toBe(ErrorCode.Overloaded);
    const b1 = p.admit(b) as () => void;
    expect((p.admit(b) as Refusal).status).toBe(503); // global limit 3 reached
    a1();
    a1(); // releasing twice frees one slot only
    const b2 = p.admit(b);
    expect(typeof b2).toBe('function');
    expect((p.admit(b) as Refusal).status).toBe(503);
    for (const f of [a2, b1, b2 as () => void]) f();
  });

  it('exposes the request timeout and body size limit for the transport', async () => {
    const p = await pipeline({ limits: { requestTimeout: '1m30s', maxBodyBytes: 65536 } });
    expect(p.requestTimeoutMs).toBe(90_000);
    expect(p.maxBodyBytes).toBe(65536);
  });
});

describe('authorization from files', () => {
  it('reads a ToolHive config file and a ConfigMap mount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ome-pipe-'));
    try {
      writeFileSync(join(dir, 'authz.yaml'), 'version: "1.0"\ntype: cedarv1\ncedar:\n  policies:\n    - permit(principal, action == Action::"call_tool", resource == Tool::"weather");\n  entities_json: "[]"\n');
      const p = await pipeline({ authzConfig: { type: 'file', file: { policyPaths: [join(dir, 'authz.yaml')] } } });
      const who = p.authenticate(bearerOnly(undefined)) as Principal;
      expect(p.checkRequest(who, req('tools/call', { name: 'weather' }))).toBeNull();
      expect(p.checkRequest(who, req('tools/call', { name: 'other' }))!.status).toBe(403);

      writeFileSync(join(dir, 'authz.json'), JSON.stringify({ policies: ['permit(principal, action == Action::"get_prompt", resource);'], entitiesJSON: '[]' }));
      const q = await pipeline({ capabilities: { prompts: true }, authzConfig: { type: 'configMap', configMap: { name: 'cm' } } }, { configMapPath: (_k, _n, key) => join(dir, key) });
      expect(q.checkRequest(who, req('prompts/get', { name: 'any' }))).toBeNull();
      await expect(pipeline({ authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource) when { nope };'] } } })).rejects.toThrow(/inline\[0\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configuration resolution', () => {
  it('kubernetes: API defaults for issuer and audience, namespace from the server', async () => {
    const { authnOptionsFromConfig } = await import('./index.js');
    const o = authnOptionsFromConfig(parseAgentConfig({ namespace: 'team-a', oidcConfig: { type: 'kubernetes', kubernetes: {} } }), { logger: pino({ level: 'silent' }) })!;
    expect(o).toMatchObject({ kind: 'kubernetes', issuer: 'https://kubernetes.default.svc', audience: 'toolhive', namespaces: ['team-a'], useClusterAuth: true });
  });

  it('inline: the audience defaults to resourceURL; configMap OIDC is read from its mount', async () => {
    const { authnOptionsFromConfig } = await import('./index.js');
    const logger = pino({ level: 'silent' });
    const o = authnOptionsFromConfig(parseAgentConfig({ resourceURL: 'https://mcp.example.com/mcp', oidcConfig: { type: 'inline', inline: { issuer: 'https://idp.example.com' } } }), { logger })!;
    expect(o.audience).toBe('https://mcp.example.com/mcp');
    const dir = mkdtempSync(join(tmpdir(), 'ome-oidc-'));
    try {
      writeFileSync(join(dir, 'oidc.yaml'), 'issuer: https://auth.company.com\naudience: mcp-services\njwksURL: https://auth.company.com/.well-known/jwks.json\n');
      const c = authnOptionsFromConfig(parseAgentConfig({ oidcConfig: { type: 'configMap', configMap: { name: 'my-oidc', key: 'oidc.yaml' } } }), {
        logger,
        configMapPath: (kind, name, key) => (kind === 'oidc' && name === 'my-oidc' ? join(dir, key) : '/nonexistent'),
      })!;
      expect(c).toMatchObject({ kind: 'oidc', issuer: 'https://auth.company.com', audience: 'mcp-services', jwksURL: 'https://auth.company.com/.well-known/jwks.json' });
      expect(() =>
        authnOptionsFromConfig(parseAgentConfig({ oidcConfig: { type: 'configMap', configMap: { name: 'missing' } } }), { logger, configMapPath: () => join(dir, 'nope.json') }),
      ).toThrow(/oidcConfig.configMap: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('authentication concurrency', () => {
  it('concurrent first uses of one token share one verification', async () => {
    const p = await pipeline({ resourceURL: RESOURCE, oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } } });
    const token = await idp.sign({ sub: 'concurrent' });
    const results = await Promise.all(Array.from({ length: 20 }, () => p.authenticate(bearerOnly(`Bearer ${token}`))));
    expect(new Set(results).size).toBe(1);
    expect((results[0] as Principal).sub).toBe('concurrent');
  });
});
