import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../types.js';
import { AuthzConfigError, createCedarAuthorizer, type CedarAuthorizer, type CedarAuthorizerOptions } from './index.js';

const logger = pino({ level: 'silent' });
const user = (sub: string, claims: Record<string, unknown> = {}): Principal => ({ key: `https://idp|${sub}`, sub, iss: 'https://idp', claims: { sub, ...claims }, scopes: [] });
const open: CedarAuthorizer[] = [];
async function authz(policies: string[], extra: Partial<CedarAuthorizerOptions> = {}): Promise<CedarAuthorizer> {
  const a = await createCedarAuthorizer({ logger, policies, ...extra });
  open.push(a);
  return a;
}
afterEach(() => {
  for (const a of open.splice(0)) a.close();
});

describe('ToolHive documented policies (docs/authz.md) behave the same', () => {
  it('allow a specific tool / prompt / resource; everything else is denied by default', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource == Tool::"weather");',
      'permit(principal, action == Action::"get_prompt", resource == Prompt::"greeting");',
      'permit(principal, action == Action::"read_resource", resource == Resource::"data");',
    ]);
    const u = user('alice');
    expect(a.authorize(u, 'tool', 'weather').allow).toBe(true);
    expect(a.authorize(u, 'tool', 'weather').policies).toEqual(['policy0']);
    expect(a.authorize(u, 'tool', 'shell').allow).toBe(false);
    expect(a.authorize(u, 'prompt', 'greeting').allow).toBe(true);
    expect(a.authorize(u, 'prompt', 'weather').allow).toBe(false);
    expect(a.authorize(u, 'resource', 'data').allow).toBe(true);
    expect(a.authorize(u, 'resource', 'file:///etc/passwd').allow).toBe(false);
  });

  it('exact resource URIs are entity ids (no rewriting)', async () => {
    const a = await authz(['permit(principal, action == Action::"read_resource", resource == Resource::"file:///etc/passwd");']);
    expect(a.authorize(user('u'), 'resource', 'file:///etc/passwd').allow).toBe(true);
    expect(a.authorize(user('u'), 'resource', 'file:///etc_passwd').allow).toBe(false);
    expect(a.authorize(user('u'), 'resource', 'file:___etc_passwd').allow).toBe(false);
  });

  it('a specific client may call any tool', async () => {
    const a = await authz(['permit(principal == Client::"user123", action == Action::"call_tool", resource);']);
    expect(a.authorize(user('user123'), 'tool', 'anything').allow).toBe(true);
    expect(a.authorize(user('user456'), 'tool', 'anything').allow).toBe(false);
    expect(a.authorize(user('user123'), 'prompt', 'anything').allow).toBe(false);
  });

  it('role from the JWT: principal.claim_roles.contains("admin")', async () => {
    const a = await authz(['permit(principal, action == Action::"call_tool", resource) when { principal.claim_roles.contains("admin") };']);
    expect(a.authorize(user('a', { roles: ['admin'] }), 'tool', 'x').allow).toBe(true);
    expect(a.authorize(user('b', { roles: ['dev'] }), 'tool', 'x').allow).toBe(false);
    expect(a.authorize(user('c'), 'tool', 'x').allow).toBe(false); // missing claim: error → not satisfied
  });

  it('tool arguments: resource.arg_operation', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource == Tool::"calculator") when { resource.arg_operation == "add" || resource.arg_operation == "subtract" };',
    ]);
    const u = user('u');
    expect(a.authorize(u, 'tool', 'calculator', { operation: 'add', a: 1, b: 2 }).allow).toBe(true);
    expect(a.authorize(u, 'tool', 'calculator', { operation: 'subtract' }).allow).toBe(true);
    expect(a.authorize(u, 'tool', 'calculator', { operation: 'multiply' }).allow).toBe(false);
    expect(a.authorize(u, 'tool', 'calculator').allow).toBe(false);
  });

  it('arguments on the resource and in the context; claims on the principal and in the context', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource == Tool::"weather") when { resource.arg_location == "New York" || resource.arg_location == "London" };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"weather2") when { context.arg_location == "New York" || context.arg_location == "London" };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"w3") when { principal.claim_name == "John Doe" };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"w4") when { context.claim_name == "John Doe" };',
    ]);
    const u = user('u', { name: 'John Doe' });
    const v = user('v', { name: 'Jane Roe' });
    expect(a.authorize(u, 'tool', 'weather', { location: 'London' }).allow).toBe(true);
    expect(a.authorize(u, 'tool', 'weather', { location: 'Paris' }).allow).toBe(false);
    expect(a.authorize(u, 'tool', 'weather2', { location: 'New York' }).allow).toBe(true);
    expect(a.authorize(u, 'tool', 'weather2', { location: 'Paris' }).allow).toBe(false);
    expect(a.authorize(u, 'tool', 'w3').allow).toBe(true);
    expect(a.authorize(v, 'tool', 'w3').allow).toBe(false);
    expect(a.authorize(u, 'tool', 'w4').allow).toBe(true);
    expect(a.authorize(v, 'tool', 'w4').allow).toBe(false);
  });

  it('claims and arguments combined (data_level <= clearance_level)', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource == Tool::"sensitive_data") when { principal.claim_roles.contains("data_analyst") && resource.arg_data_level <= principal.claim_clearance_level };',
    ]);
    const analyst = user('x', { roles: ['data_analyst'], clearance_level: 3 });
    expect(a.authorize(analyst, 'tool', 'sensitive_data', { data_level: 2 }).allow).toBe(true);
    expect(a.authorize(analyst, 'tool', 'sensitive_data', { data_level: 5 }).allow).toBe(false);
    expect(a.authorize(user('y', { roles: ['dev'], clearance_level: 9 }), 'tool', 'sensitive_data', { data_level: 1 }).allow).toBe(false);
  });

  it('entities_json attributes (uid written as "Tool::weather") are visible on the resource', async () => {
    const a = await authz(['permit(principal, action == Action::"call_tool", resource) when { resource.owner == principal.claim_sub };'], {
      entitiesJSON: JSON.stringify([{ uid: 'Tool::weather', attrs: { owner: 'user123' } }]),
    });
    expect(a.authorize(user('user123'), 'tool', 'weather').allow).toBe(true);
    expect(a.authorize(user('mallory'), 'tool', 'weather').allow).toBe(false);
    expect(a.authorize(user('user123'), 'tool', 'other').allow).toBe(false);
  });

  it('a policy that errors denies the request (fail closed, as ToolHive does)', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource == Tool::"weather");',
      'permit(principal, action == Action::"call_tool", resource) when { principal.claim_roles.contains("admin") };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"news") when { principal has claim_roles && principal.claim_roles.contains("admin") };',
    ]);
    const d = a.authorize(user('no-roles'), 'tool', 'weather');
    expect(d.allow).toBe(false);
    expect(d.errors).toEqual(['policy1']);
    expect(a.authorize(user('admin', { roles: ['admin'] }), 'tool', 'weather').allow).toBe(true);
  });

  it('forbid wins over permit; default deny', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource);',
      'forbid(principal, action == Action::"call_tool", resource == Tool::"delete_everything");',
    ]);
    expect(a.authorize(user('u'), 'tool', 'read').allow).toBe(true);
    const d = a.authorize(user('u'), 'tool', 'delete_everything');
    expect(d.allow).toBe(false);
    expect(d.policies).toEqual(['policy1']);
    expect(a.authorize(user('u'), 'prompt', 'p').allow).toBe(false);
  });

  it('groups from the groups/roles claims are THVGroup parents; group_claim_name and entities_json hierarchy', async () => {
    const a = await authz(['permit(principal in THVGroup::"engineering", action == Action::"call_tool", resource);']);
    expect(a.authorize(user('g', { groups: ['engineering'] }), 'tool', 't').allow).toBe(true);
    expect(a.authorize(user('h', { groups: ['sales'] }), 'tool', 't').allow).toBe(false);
    expect(a.authorize(user('r', { roles: ['engineering'] }), 'tool', 't').allow).toBe(true);

    const b = await authz(['permit(principal in THVGroup::"staff", action, resource);'], {
      entitiesJSON: JSON.stringify([
        { uid: { type: 'THVGroup', id: 'staff' }, attrs: {}, parents: [] },
        { uid: { type: 'THVGroup', id: 'eng' }, attrs: {}, parents: [{ type: 'THVGroup', id: 'staff' }] },
      ]),
      claimOptions: { groupClaimName: 'https://example.com/groups' },
    });
    expect(b.authorize(user('x', { 'https://example.com/groups': ['eng'] }), 'prompt', 'p').allow).toBe(true);
    expect(b.authorize(user('y', { 'https://example.com/groups': ['ops'] }), 'prompt', 'p').allow).toBe(false);
  });

  it('server scoping: resource in MCP::"<server>"', async () => {
    const a = await authz(['permit(principal, action, resource in MCP::"github");'], { serverName: 'github' });
    expect(a.authorize(user('u'), 'tool', 'create_issue').allow).toBe(true);
    const b = await authz(['permit(principal, action, resource in MCP::"github");'], { serverName: 'gitlab' });
    expect(b.authorize(user('u'), 'tool', 'create_issue').allow).toBe(false);
  });

  it('tool annotations from the server are resource attributes (resource.readOnlyHint)', async () => {
    const a = await authz(['permit(principal, action == Action::"call_tool", resource) when { resource has readOnlyHint && resource.readOnlyHint };']);
    a.setToolAnnotations([
      { name: 'get', annotations: { readOnlyHint: true } },
      { name: 'put', annotations: { readOnlyHint: false, destructiveHint: true } },
    ]);
    expect(a.authorize(user('u'), 'tool', 'get').allow).toBe(true);
    expect(a.authorize(user('u'), 'tool', 'put').allow).toBe(false);
    expect(a.authorize(user('u'), 'tool', 'unknown').allow).toBe(false);
    a.setToolAnnotations([{ name: 'put', annotations: { readOnlyHint: true } }]);
    expect(a.authorize(user('u'), 'tool', 'put').allow).toBe(true);
    expect(a.authorize(user('u'), 'tool', 'get').allow).toBe(false);
  });

  it('behind an aggregate, the backend of a tool is resource.backend (from its listed _meta), both evaluators', async () => {
    const policies = ['permit(principal, action == Action::"call_tool", resource) when { resource has backend && resource.backend == "memory" };'];
    for (const a of [await authz(policies), await authz(policies, { jsEvaluator: false })]) {
      a.setToolAnnotations([
        { name: 'memory_read_graph', _meta: { 'ome.io/backend': 'memory' } },
        { name: 'everything_echo', annotations: { readOnlyHint: true }, _meta: { 'ome.io/backend': 'everything' } },
        { name: 'plain' },
      ]);
      expect(a.authorize(user('u'), 'tool', 'memory_read_graph').allow).toBe(true);
      expect(a.authorize(user('u'), 'tool', 'everything_echo').allow).toBe(false);
      expect(a.authorize(user('u'), 'tool', 'plain').allow).toBe(false);
      expect(a.toolAnnotations('everything_echo')).toEqual({ readOnlyHint: true, backend: 'everything' });
      // A new list moves a tool to another backend: the next decision sees it (cached ones are dropped).
      a.setToolAnnotations([{ name: 'everything_echo', _meta: { 'ome.io/backend': 'memory' } }]);
      expect(a.authorize(user('u'), 'tool', 'everything_echo').allow).toBe(true);
    }
  });

  it('multi_valued_claims: claim_scp string and claimset_scp Set', async () => {
    const a = await authz(['permit(principal, action, resource) when { principal.claimset_scp.contains("Mail.Read") };'], {
      claimOptions: { multiValuedClaims: ['scp'] },
    });
    expect(a.authorize(user('a', { scp: 'Mail.Read User.Read' }), 'tool', 't').allow).toBe(true);
    expect(a.authorize(user('b', { scp: ['Mail.ReadWrite'] }), 'tool', 't').allow).toBe(false);
  });
});

describe('list actions', () => {
  it('are allowed (results filtered) unless a policy names them', async () => {
    const a = await authz(['permit(principal, action == Action::"call_tool", resource);']);
    expect(a.authorizeList(user('u'), 'tool').allow).toBe(true);
    const b = await authz(['permit(principal in THVGroup::"admins", action == Action::"list_tools", resource == FeatureType::"tool");']);
    expect(b.authorizeList(user('u', { groups: ['admins'] }), 'tool').allow).toBe(true);
    expect(b.authorizeList(user('v'), 'tool').allow).toBe(false);
    expect(b.authorizeList(user('v'), 'prompt').allow).toBe(true);
  });
});

describe('decision cache', () => {
  it('caches per principal and (action, resource) unless a policy reads arguments', async () => {
    const a = await authz([
      'permit(principal, action == Action::"call_tool", resource == Tool::"plain");',
      'permit(principal, action == Action::"call_tool", resource == Tool::"calc") when { context.arg_op == "add" };',
    ]);
    const u = user('u');
    expect(a.authorize(u, 'tool', 'plain', { x: 1 }).cached).toBe(false);
    expect(a.authorize(u, 'tool', 'plain', { x: 2 }).cached).toBe(true);
    expect(a.authorize(u, 'tool', 'calc', { op: 'add' }).allow).toBe(true);
    const again = a.authorize(u, 'tool', 'calc', { op: 'mul' });
    expect(again.allow).toBe(false);
    expect(again.cached).toBe(false);
    // another principal object (another token) does not see u's cache
    expect(a.authorize(user('u'), 'tool', 'plain').cached).toBe(false);
  });
});

describe('loading', () => {
  let dir: string;
  const tmp = () => (dir = mkdtempSync(join(tmpdir(), 'ome-authz-')));
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('reads ToolHive config files as they are, JSON and YAML', async () => {
    tmp();
    writeFileSync(
      join(dir, 'authz.json'),
      JSON.stringify({ version: '1.0', type: 'cedarv1', cedar: { policies: ['permit(principal, action == Action::"call_tool", resource == Tool::"weather");'], entities_json: '[]' } }),
    );
    writeFileSync(
      join(dir, 'more.yaml'),
      ['version: "1.0"', 'type: cedarv1', 'cedar:', '  policies:', '    - \'permit(principal, action == Action::"get_prompt", resource == Prompt::"greeting");\'', '  entities_json: "[]"', ''].join('\n'),
    );
    writeFileSync(join(dir, 'x.cedar'), '@id("res") permit(principal, action == Action::"read_resource", resource);\nforbid(principal, action, resource == Resource::"secret");');
    const a = await authz([], { policies: undefined, policyPaths: [dir], watch: false });
    expect(a.policyCount).toBe(4);
    expect(a.authorize(user('u'), 'tool', 'weather').allow).toBe(true);
    expect(a.authorize(user('u'), 'prompt', 'greeting').allow).toBe(true);
    expect(a.authorize(user('u'), 'resource', 'r').policies).toEqual(['res']);
    expect(a.authorize(user('u'), 'resource', 'secret').allow).toBe(false);
  });

  it('names the broken policy and the reason', async () => {
    await expect(authz(['permit(principal, action, resource);', 'permit(principal, action, resource) when { x };'])).rejects.toThrow(/inline\[1\].*invalid variable/);
    await expect(authz(['this is not cedar'])).rejects.toBeInstanceOf(AuthzConfigError);
    tmp();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ version: '1.0', type: 'opa', cedar: {} }));
    await expect(authz([], { policies: undefined, policyPaths: [dir] })).rejects.toThrow(/bad.json.*not supported/);
    await expect(authz(['permit(principal, action, resource);'], { entitiesJSON: '{"a":1}' })).rejects.toThrow(/JSON array/);
  });

  it('reloads on file change; a broken set keeps the old one and counts a failure', async () => {
    tmp();
    const file = join(dir, 'p.cedar');
    writeFileSync(file, 'permit(principal, action == Action::"call_tool", resource == Tool::"a");');
    let failures = 0;
    const a = await authz([], { policies: undefined, policyPaths: [file], watch: false, metrics: { policyReloadFailed: () => failures++ } });
    expect(a.authorize(user('u'), 'tool', 'a').allow).toBe(true);
    writeFileSync(file, 'permit(principal, action == Action::"call_tool", resource == Tool::"b");');
    expect(a.reload()).toBe(true);
    expect(a.authorize(user('u'), 'tool', 'a').allow).toBe(false);
    expect(a.authorize(user('u'), 'tool', 'b').allow).toBe(true);
    writeFileSync(file, 'permit(principal, action == Action::"call_tool", resource == Tool::"c") when { oops };');
    expect(a.reload()).toBe(false);
    expect(failures).toBe(1);
    expect(a.authorize(user('u'), 'tool', 'b').allow).toBe(true);
    expect(a.authorize(user('u'), 'tool', 'c').allow).toBe(false);
  });

  it('follows a ConfigMap-style ..data symlink swap through fs.watch', async () => {
    tmp();
    const mount = join(dir, 'mount');
    mkdirSync(mount);
    const version = (n: number, body: string) => {
      const v = join(mount, `..v${n}`);
      mkdirSync(v);
      writeFileSync(join(v, 'policy.cedar'), body);
      symlinkSync(`..v${n}`, join(mount, '..data_tmp'));
      renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    };
    version(1, 'permit(principal, action == Action::"call_tool", resource == Tool::"one");');
    symlinkSync('..data/policy.cedar', join(mount, 'policy.cedar'));
    let reloaded = 0;
    const a = await authz([], { policies: undefined, policyPaths: [mount], debounceMs: 50, metrics: { policyReloaded: () => reloaded++ } });
    expect(a.authorize(user('u'), 'tool', 'one').allow).toBe(true);
    version(2, 'permit(principal, action == Action::"call_tool", resource == Tool::"two");');
    for (let i = 0; i < 100 && reloaded === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(reloaded).toBe(1);
    expect(a.authorize(user('u'), 'tool', 'one').allow).toBe(false);
    expect(a.authorize(user('u'), 'tool', 'two').allow).toBe(true);
  });

  it('reloads while requests are evaluated: every decision sees a whole set, never a mix', async () => {
    tmp();
    const file = join(dir, 'p.cedar');
    const A = 'permit(principal, action == Action::"call_tool", resource == Tool::"x");\nforbid(principal, action, resource == Tool::"y");\npermit(principal, action, resource == Tool::"y");';
    const B = 'permit(principal, action == Action::"call_tool", resource == Tool::"y");\nforbid(principal, action, resource == Tool::"x");\npermit(principal, action, resource == Tool::"x");';
    writeFileSync(file, A);
    let reloads = 0;
    const a = await authz([], { policies: undefined, policyPaths: [file], debounceMs: 1, metrics: { policyReloaded: () => reloads++ } });
    const principals = Array.from({ length: 8 }, (_, i) => user(`p${i}`));
    let seenA = 0;
    let seenB = 0;
    for (let round = 0; round < 40; round++) {
      writeFileSync(file, round % 2 === 0 ? B : A);
      if (round % 5 === 0) writeFileSync(file, 'permit(principal, action, resource) when { broken };'); // a broken set in between
      if (round % 5 === 0) writeFileSync(file, round % 2 === 0 ? B : A);
      for (let i = 0; i < 25; i++) {
        const p = principals[i % principals.length]!;
        const x = a.authorize(p, 'tool', 'x').allow;
        const y = a.authorize(p, 'tool', 'y', { n: i }).allow;
        expect(x !== y).toBe(true); // A: x only; B: y only
        if (x) seenA++;
        else seenB++;
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(reloads).toBeGreaterThan(0);
    expect(seenA).toBeGreaterThan(0);
    expect(seenB).toBeGreaterThan(0);
  });
});

describe('differential: the JS scope path and the pre-filtered sets agree with Cedar on the whole set', () => {
  it('random policy sets, principals and resources', { timeout: 60_000 }, async () => {
    const cedar = await import('@cedar-policy/cedar-wasm/nodejs');
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T,>(xs: readonly T[]) => xs[rnd(xs.length)]!;
    const groups = ['a', 'b', 'c'];
    const tools = ['t1', 't2', 't3'];
    const principalScopes = ['principal', 'principal == Client::"u1"', 'principal in THVGroup::"a"', 'principal in THVGroup::"b"', 'principal is Client'];
    const actionScopes = ['action', 'action == Action::"call_tool"', 'action in [Action::"call_tool", Action::"get_prompt"]', 'action == Action::"read_resource"'];
    const resourceScopes = ['resource', 'resource == Tool::"t1"', 'resource == Tool::"t2"', 'resource is Tool', 'resource in MCP::"srv"', 'resource is Prompt', 'resource == Prompt::"t3"'];
    const conditions = [
      '',
      '',
      ' when { principal.claim_level > 2 };',
      ' unless { context.arg_x == "no" };',
      ' when { resource has readOnlyHint && resource.readOnlyHint };',
      ' when { principal.claim_groups.contains("a") || principal.claim_level >= 4 };',
      ' when { principal.claim_groups.containsAny(["b", "c"]) && !(resource.name like "t*3") };',
      ' when { principal has claim_email && principal.claim_email like "*@example.com" };',
      ' when { context.claim_level != 1 };',
      ' when { principal in THVGroup::"c" || resource in MCP::"other" };',
      ' unless { resource is Prompt && context has arg_x };',
      ' when { if principal.claim_level < 2 then context.arg_x == "yes" else true };',
      ' when { principal.claim_groups.containsAll(["a", "b"]) };',
      ' when { principal.claim_groups == ["b", "a"] };',
      ' when { principal.claim_ratio.lessThan(decimal("0.5")) };',
      ' when { principal.claim_level + 1 > 3 };',
      ' when { principal.claim_meta.team == "x" };',
      ' when { principal.claim_meta has team && principal.claim_meta.team like "x*" };',
      ' when { context.arg_x like "y*s" && resource.operation == "call" && action.operation == "call_tool" };',
      ' when { principal.claim_groups.isEmpty() };',
      ' when { resource.arg_n > 3 };',
      ' when { principal.claim_level == "3" };',
      ' when { resource.name like "t\\*" || resource.name like "*2" };',
      ' when { principal in [THVGroup::"a", THVGroup::"b"] };',
      ' when { resource is Tool in MCP::"srv" };',
      ' when { principal.claim_email == principal.claim_level };',
      ' when { context.arg_x };',
      ' when { principal.claim_nope == 1 };',
      ' when { principal has claim_meta.team };',
      ' when { [1, 2, principal.claim_level].contains(3) };',
      ' when { principal.claim_sub == "u1" && action == Action::"call_tool" };',
    ];
    let wasmCalls = 0;
    let decisions = 0;
    for (let round = 0; round < 40; round++) {
      const n = 1 + rnd(12);
      const ps: string[] = [];
      for (let i = 0; i < n; i++) {
        const c = pick(conditions);
        ps.push(`${rnd(3) === 0 ? 'forbid' : 'permit'}(${pick(principalScopes)}, ${pick(actionScopes)}, ${pick(resourceScopes)})${c || ';'}`);
      }
      const fast = await authz(ps, { serverName: 'srv' });
      const slow = await authz(ps, { serverName: 'srv', scopeFastPath: false, jsEvaluator: false });
      // count how often the fast instance still needs cedar-wasm
      const inner = (fast as unknown as { cedar: typeof cedar }).cedar;
      (fast as unknown as { cedar: unknown }).cedar = { ...inner, statefulIsAuthorized: (c: never) => (wasmCalls++, inner.statefulIsAuthorized(c)) };
      for (const a of [fast, slow]) a.setToolAnnotations([{ name: 't1', annotations: { readOnlyHint: true } }]);
      cedar.preparsePolicySet('diff-whole', { staticPolicies: Object.fromEntries(ps.map((p, i) => [`policy${i}`, p])) });
      for (let k = 0; k < 30; k++) {
        const sub = pick(['u1', 'u2']);
        const claims: Record<string, unknown> = { level: rnd(5), groups: groups.filter(() => rnd(2) === 0) };
        if (rnd(2) === 0) claims.email = pick(['a@example.com', 'b@evil.com']);
        if (rnd(2) === 0) claims.ratio = pick([0.25, 0.75]);
        if (rnd(2) === 0) claims.meta = { team: pick(['x', 'xy', 'z']) };
        const p1 = user(sub, claims);
        const p2 = user(sub, claims);
        const feature = pick(['tool', 'prompt', 'resource'] as const);
        const id = pick(tools);
        const args: Record<string, unknown> | undefined = rnd(2) === 0 ? { x: pick(['no', 'yes']), ...(rnd(2) === 0 ? { n: rnd(6) } : {}) } : undefined;
        const d1 = fast.authorize(p1, feature, id, args);
        if (!d1.cached) decisions++;
        const d2 = slow.authorize(p2, feature, id, args);
        const type = { tool: 'Tool', prompt: 'Prompt', resource: 'Resource' }[feature];
        const action = { tool: 'call_tool', prompt: 'get_prompt', resource: 'read_resource' }[feature];
        const attrs: Record<string, unknown> = { name: id, operation: { tool: 'call', prompt: 'get', resource: 'read' }[feature], feature };
        if (feature === 'resource') attrs.uri = id;
        if (feature === 'tool' && id === 't1') attrs.readOnlyHint = true;
        if (args) for (const [k, v] of Object.entries(args)) attrs[`arg_${k}`] = v;
        const claimAttrs: Record<string, unknown> = { claim_sub: sub };
        for (const [k, v] of Object.entries(claims)) claimAttrs[`claim_${k}`] = typeof v === 'number' && !Number.isInteger(v) ? { __extn: { fn: 'decimal', arg: v.toFixed(4) } } : v;
        const ref = cedar.statefulIsAuthorized({
          principal: { type: 'Client', id: sub },
          action: { type: 'Action', id: action },
          resource: { type, id },
          context: { ...claimAttrs, ...(args ? Object.fromEntries(Object.entries(args).map(([k, v]) => [`arg_${k}`, v])) : {}) } as never,
          preparsedPolicySetId: 'diff-whole',
          entities: [
            { uid: { type: 'Client', id: sub }, attrs: claimAttrs as never, parents: (claims.groups as string[]).map((g) => ({ type: 'THVGroup', id: g })) },
            { uid: { type: 'Action', id: action }, attrs: { operation: action }, parents: [] },
            { uid: { type, id }, attrs: attrs as never, parents: [{ type: 'MCP', id: 'srv' }] },
          ],
        });
        if (ref.type !== 'success') throw new Error(JSON.stringify(ref));
        const failed = ref.response.diagnostics.errors.length > 0; // ToolHive: any policy error denies
        const expected = { allow: !failed && ref.response.decision === 'allow', policies: failed ? [] : [...ref.response.diagnostics.reason].sort() };
        const what = `${ps.join('\n')}\n${sub} ${JSON.stringify(claims)} ${feature} ${id} ${JSON.stringify(args)}`;
        expect({ allow: d1.allow, policies: [...d1.policies].sort() }, what).toEqual(expected);
        expect({ allow: d2.allow, policies: [...d2.policies].sort() }, what).toEqual(expected);
      }
    }
    // most decisions never reach wasm (the rest use decimals, arithmetic or record equality)
    expect(wasmCalls).toBeLessThan(decisions * 0.5);
    expect(decisions).toBeGreaterThan(700);
  });
});
