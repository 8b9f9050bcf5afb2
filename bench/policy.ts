// Micro-benchmark of the authorization stage: cached and uncached decision times at 10 and 200
// policies, plus cedar-wasm on the whole set for comparison.   npx tsx bench/policy.ts
import pino from 'pino';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { createCedarAuthorizer } from '../agent/policy/authz/index.js';
import type { Principal } from '../agent/policy/types.js';
import { bearerOnly } from '../agent/policy/authn/credentials.js';

const logger = pino({ level: 'silent' });

/** A realistic mix: per-tool permits by group, claim conditions, argument conditions, forbids, a few unconstrained. */
function policies(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n - 2; i++) {
    switch (i % 5) {
      case 0:
        out.push(`permit(principal in THVGroup::"team${i % 7}", action == Action::"call_tool", resource == Tool::"tool${i}");`);
        break;
      case 1:
        out.push(`permit(principal, action == Action::"call_tool", resource == Tool::"tool${i}") when { principal.claim_roles.contains("role${i % 11}") };`);
        break;
      case 2:
        out.push(`permit(principal, action == Action::"call_tool", resource == Tool::"tool${i}") when { context.arg_mode == "read" };`);
        break;
      case 3:
        out.push(`forbid(principal, action == Action::"call_tool", resource == Tool::"tool${i}") unless { principal.claim_email like "*@example.com" };`);
        break;
      default:
        out.push(`permit(principal, action == Action::"get_prompt", resource == Prompt::"prompt${i}");`);
    }
  }
  // unconstrained policies are part of every subset
  out.push('forbid(principal, action, resource) when { principal has claim_blocked && principal.claim_blocked };');
  out.push('permit(principal in THVGroup::"admins", action, resource);');
  return out;
}

const claims = {
  iss: 'https://idp.example.com',
  sub: 'user-1',
  aud: 'https://mcp.example.com/mcp',
  exp: 2_000_000_000,
  iat: 1_700_000_000,
  email: 'someone@example.com',
  name: 'Some One',
  groups: ['team0', 'team3'],
  roles: ['role1', 'role5'],
  scope: 'openid tools',
};
const mkPrincipal = (i: number): Principal => ({ key: `${claims.iss}|user-${i}`, sub: `user-${i}`, iss: claims.iss, claims: { ...claims, sub: `user-${i}` }, scopes: ['openid', 'tools'] });

let printing = true;
function time(label: string, iterations: number, f: (i: number) => unknown): number {
  for (let i = 0; i < iterations; i++) f(i); // warm up (JIT) with the same workload
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) f(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / iterations;
  if (printing) console.log(`  ${label.padEnd(60)} ${us.toFixed(1).padStart(8)} µs`);
  return us;
}

const results: Record<string, number> = {};
async function section(n: number): Promise<void> {
  const ps = policies(n);
  if (printing) console.log(`${ps.length} policies`);
  const a = await createCedarAuthorizer({ logger, policies: ps, serverName: 'bench' });
  // the same, with every decision going through cedar-wasm (policy indexing and input pruning only)
  const w = await createCedarAuthorizer({ logger, policies: ps, serverName: 'bench', jsEvaluator: false, scopeFastPath: false });
  const tools = Array.from({ length: n - 2 }, (_, i) => `tool${i}`);
  const hot = mkPrincipal(0);
  // cached: same principal (token), same (action, resource); tools whose policies do not read
  // arguments (every fifth one does: those are never cached)
  const plain = tools.filter((_, i) => i % 5 !== 2);
  for (const t of plain) a.authorize(hot, 'tool', t);
  results[`cached-${n}`] = time('cached decision (tools/call, same token and tool)', 50_000, (i) => a.authorize(hot, 'tool', plain[i % plain.length]!, { mode: 'read' }));
  // uncached: a known token (its claims already prepared) deciding on a tool for the first time
  const known = Array.from({ length: 4_000 }, (_, i) => mkPrincipal(100_000 + i));
  for (const p of known) {
    a.authorize(p, 'prompt', 'warm-up');
    w.authorize(p, 'prompt', 'warm-up');
  }
  let q = 0;
  results[`uncached-${n}`] = time('uncached decision (known token, first call of a tool)', 2_000, (i) => a.authorize(known[q++ % known.length]!, 'tool', tools[i % tools.length]!));
  const argTools = tools.filter((_, i) => i % 5 === 2);
  results[`uncached-args-${n}`] = time('uncached decision reading arguments (context.arg_mode)', 2_000, (i) => a.authorize(hot, 'tool', argTools[i % argTools.length]!, { mode: i % 2 ? 'read' : 'write' }));
  // a new token: its claims are converted once, then the decision
  let k = 1;
  results[`new-token-${n}`] = time("a new token's first decision (claims converted)", 2_000, (i) => a.authorize(mkPrincipal(k++), 'tool', tools[i % tools.length]!));
  let r = 0;
  results[`uncached-wasm-${n}`] = time('uncached, known token, through cedar-wasm (indexed, pruned)', 2_000, (i) => w.authorize(known[r++ % known.length]!, 'tool', tools[i % tools.length]!));
  // what cedar-wasm costs on the whole set, with every claim as an attribute (no indexing, no pruning)
  const id = `whole-${n}`;
  cedar.preparsePolicySet(id, { staticPolicies: Object.fromEntries(ps.map((p, i) => [`policy${i}`, p])) });
  const attrs = Object.fromEntries(Object.entries(claims).map(([k, v]) => [`claim_${k}`, v])) as Record<string, cedar.CedarValueJson>;
  results[`whole-${n}`] = time('cedar-wasm alone, whole set, all claims (reference)', n > 100 ? 500 : 2_000, (i) =>
    cedar.statefulIsAuthorized({
      principal: { type: 'Client', id: 'user-0' },
      action: { type: 'Action', id: 'call_tool' },
      resource: { type: 'Tool', id: tools[i % tools.length]! },
      context: { ...attrs, arg_mode: 'read' },
      preparsedPolicySetId: id,
      entities: [
        { uid: { type: 'Client', id: 'user-0' }, attrs, parents: [{ type: 'THVGroup', id: 'team0' }, { type: 'THVGroup', id: 'team3' }] },
        { uid: { type: 'Tool', id: tools[i % tools.length]! }, attrs: { name: tools[i % tools.length]!, operation: 'call', feature: 'tool', arg_mode: 'read' }, parents: [{ type: 'MCP', id: 'bench' }] },
      ],
    }),
  );
  a.close();
  w.close();
}
// one silent pass first, so the first printed section does not pay for JIT warm-up
printing = false;
await section(10);
printing = true;
for (const n of [10, 200]) await section(n);
// The whole hot path for one tools/call with a cached token and a cached decision, audit on
// (written to a discarding stream): authenticate + checkRequest + admit + release.
{
  const { startTestIdP, RESOURCE } = await import('../agent/policy/testing/oidc.js');
  const { createPolicyPipeline } = await import('../agent/policy/index.js');
  const { parseAgentConfig } = await import('../api/agent-config.js');
  const idp = await startTestIdP();
  const sink = pino({ level: 'info' }, { write: () => {} });
  for (const n of [10, 200]) {
    const pipeline = await createPolicyPipeline(
      parseAgentConfig({
        name: 'bench',
        resourceURL: RESOURCE,
        oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } },
        authzConfig: { type: 'inline', inline: { policies: [...policies(n), 'permit(principal, action == Action::"call_tool", resource == Tool::"echo");'] } },
        limits: { perPrincipal: { requestsPerMinute: 1_000_000_000, maxConcurrentRequests: 100 } },
      }),
      { logger: sink },
    );
    const header = `Bearer ${await idp.clientCredentialsToken()}`;
    const credentials = bearerOnly(header);
    const who = await pipeline.authenticate(bearerOnly(header));
    if (!('sub' in who)) throw new Error('token refused');
    const msg = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } };
    results[`pipeline-${n}`] = time(`pipeline: authn (cached) + checkRequest + admit, ${n + 1} policies`, 20_000, () => {
      const p = pipeline.authenticate(credentials) as typeof who;
      if (pipeline.checkRequest(p, msg, 'sess') !== null) throw new Error('denied');
      const release = pipeline.admit(p);
      if (typeof release === 'function') release();
    });
    await pipeline.close();
  }
  await idp.close();
}
console.log(JSON.stringify(results));
