// Fixture for the "agent + auth + Cedar + filters" rows: a locally minted RS256 JWT, a JWKS served
// on loopback, and an agent config (`--config`) with inline OIDC, N Cedar policies and a tools
// filter. This is the hook to adjust if the policy pipeline's config or Cedar vocabulary changes:
// `agentPolicyConfig` is the only place that knows the shape.
//
// Cedar vocabulary assumed (ToolHive's): principal `Client::"<sub>"`, action
// `Action::"call_tool"`, resource `Tool::"<name>"`, groups as parents `THVGroup::"<name>"`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface AuthFixture {
  issuer: string;
  jwksURL: string;
  audience: string;
  token: string;
  /** Requests the JWKS endpoint served (should be 1-2: the agent caches keys). */
  jwksHits: () => number;
  close: () => Promise<void>;
}

export async function startAuthFixture(): Promise<AuthFixture> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const jwks = JSON.stringify({ keys: [jwk] });
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = 'ome-mcp-bench';
  const token = await new SignJWT({ scope: 'mcp:tools', groups: ['bench'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return {
    issuer,
    jwksURL: `${issuer}/jwks.json`,
    audience,
    token,
    jwksHits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * `count` Cedar policies: one permits `echo` for the bench principal; the rest are a realistic mix
 * that does not match the bench call (group-, claim- and argument-conditioned permits for other
 * tools, forbids on `echo` for other principals or a claim the token lacks), so the engine holds a
 * policy set of that size and evaluates the conditions that apply to `echo`.
 */
export function cedarPolicies(count: number): string[] {
  const out = ['permit(principal == Client::"bench-user", action == Action::"call_tool", resource == Tool::"echo");'];
  for (let i = 1; out.length < count; i++) {
    switch (i % 5) {
      case 0:
        out.push(`permit(principal in THVGroup::"group-${i}", action == Action::"call_tool", resource == Tool::"tool-${i}");`);
        break;
      case 1:
        out.push(`permit(principal, action == Action::"call_tool", resource == Tool::"tool-${i}") when { principal has claim_roles && principal.claim_roles.contains("role-${i}") };`);
        break;
      case 2:
        out.push(`permit(principal, action == Action::"call_tool", resource == Tool::"tool-${i}") when { context has arg_mode && context.arg_mode == "read" };`);
        break;
      case 3:
        out.push(`forbid(principal, action == Action::"call_tool", resource == Tool::"echo") when { principal has claim_blocked_${i} && principal.claim_blocked_${i} == true };`);
        break;
      default:
        out.push(`forbid(principal == Client::"user-${i}", action == Action::"call_tool", resource == Tool::"echo");`);
    }
  }
  return out;
}

/** The agent config for an auth row (written to a file and passed with `--config`). */
export function agentPolicyConfig(fixture: AuthFixture, policies: number, resourceURL: string): Record<string, unknown> {
  return {
    resourceURL,
    oidcConfig: {
      type: 'inline',
      inline: { issuer: fixture.issuer, audience: fixture.audience, jwksURL: fixture.jwksURL, jwksAllowPrivateIP: true },
    },
    authzConfig: { type: 'inline', inline: { policies: cedarPolicies(policies) } },
    toolsFilter: ['echo'],
    // audit stays at its default (enabled): one log line per decision, as deployed
  };
}
