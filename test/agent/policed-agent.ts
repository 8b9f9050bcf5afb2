import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningAgent } from '../../agent/agent.js';
import { RESOURCE, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { PROBE, startTestAgent } from './harness.js';

/** The probe server behind an agent that verifies tokens from `idp` (real JWKS over HTTP) and enforces Cedar + a tool filter. */
export async function startPolicedAgent(idp: TestIdP, policies: string[], toolsFilter: string[]): Promise<RunningAgent> {
  const config = join(mkdtempSync(join(tmpdir(), 'agent-policy-')), 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({
      resourceURL: RESOURCE,
      oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, audience: RESOURCE, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } },
      authzConfig: { type: 'inline', inline: { policies } },
      toolsFilter,
    }),
  );
  return startTestAgent(['--config', config, '--', ...PROBE]);
}

/** A token for `sub`, signed with the provider's own key, for this resource, valid ten minutes. */
export function tokenFor(idp: TestIdP, sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return idp.sign({ iss: idp.issuer, sub, aud: RESOURCE, iat: now, exp: now + 600 });
}
