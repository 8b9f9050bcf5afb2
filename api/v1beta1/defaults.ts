// The plain values of the v1beta1 API (defaults, enumerations, the duration format) without the
// schemas that carry them: the agent's hot path and start-up import these, and a schema module
// would load typebox (~50 ms and ~12 MB of RSS) into every agent, config file or not. The schema
// modules import them from here (and re-export them), so each is defined once.

export const SESSION_MODES = ['shared', 'per-session'] as const;

/** Go-style duration: `500ms`, `30s`, `2m`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1h30m` → 5_400_000. Throws on anything else. */
export function durationToMs(d: string): number {
  if (!new RegExp(DURATION_PATTERN).test(d)) throw new Error(`invalid duration ${JSON.stringify(d)}`);
  let total = 0;
  for (const m of d.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_REDACTED_ARGUMENTS = ['password', 'token', 'secret', 'apiKey', 'api_key', 'authorization'] as const;

export const DEFAULT_K8S_ISSUER = 'https://kubernetes.default.svc';
export const DEFAULT_K8S_AUDIENCE = 'toolhive';

export const DEFAULT_IDENTITY_ENV = 'MCP_USER_TOKEN';
export const DEFAULT_IDENTITY_HEADER = 'Authorization';

export const DEFAULT_API_KEY_HEADER = 'X-API-Key';
export const DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE = 10;
