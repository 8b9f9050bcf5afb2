// The authentication stage: the configured methods tried in their declared order. The first whose
// kind of credential the request carries decides (its principal, or its refusal — never the next
// method); a request with no credential any method knows is 401 with every method's challenge.
// Wrong credentials count against the client address (failures.ts).
import type { Logger } from 'pino';
import type { AgentConfig } from '../../../api/agent-config.js';
import { DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE } from '../../../api/v1beta1/defaults.js';
import { ErrorCode } from '../../protocol/jsonrpc.js';
import { Refusal, type PolicyMetrics } from '../types.js';
import { ApiKeyMethod } from './api-key.js';
import { BearerMethod } from './bearer.js';
import { ClientCertificateMethod } from './client-certificate.js';
import type { Credentials } from './credentials.js';
import { FailureLimiter } from './failures.js';
import type { AuthnOptions } from './index.js';
import type { AuthMethod, AuthResult } from './method.js';
import { noneMethod } from './none.js';

export class AuthChain {
  private readonly missing: Refusal;
  private readonly bearer: BearerMethod | undefined;

  constructor(
    readonly methods: readonly AuthMethod[],
    private readonly failures: FailureLimiter,
    private readonly metrics?: PolicyMetrics,
  ) {
    const challenges = methods.map((m) => m.challenge).filter((c): c is string => c !== undefined);
    const wanted = methods.map((m) => m.wants).join(' or ');
    this.missing = new Refusal(401, ErrorCode.Unauthorized, `Unauthorized: ${wanted} is required`, challenges.length ? { 'WWW-Authenticate': challenges.join(', ') } : undefined, 'no credentials');
    this.bearer = methods.find((m): m is BearerMethod => m instanceof BearerMethod);
  }

  /** Synchronous unless a credential must be verified (remotely, or by a password hash). */
  authenticate(c: Credentials): AuthResult | Promise<AuthResult> {
    const limited = this.failures.check(c.address);
    if (limited !== undefined) {
      this.metrics?.authn?.('rejected');
      return limited;
    }
    for (const m of this.methods) {
      const r = m.authenticate(c);
      if (r === undefined) continue;
      return r instanceof Promise ? r.then((x) => this.settle(m, x, c.address)) : this.settle(m, r, c.address);
    }
    this.metrics?.authn?.('rejected');
    return this.missing;
  }

  private settle(m: AuthMethod, r: AuthResult, address: string | undefined): AuthResult {
    const refused = r instanceof Refusal;
    if (refused && r.status === 401) this.failures.record(address);
    // The Authenticator counts bearer outcomes itself (ok / cached / rejected).
    if (!(m instanceof BearerMethod) && m.type !== 'None') this.metrics?.authn?.(refused ? 'rejected' : 'ok');
    return r;
  }

  /** The RFC 9728 document, when a method takes bearer tokens. */
  metadata(resourceURL?: string): Record<string, unknown> | undefined {
    return this.bearer?.authenticator.metadata(resourceURL);
  }

  close(): void {
    for (const m of this.methods) m.close?.();
  }
}

export interface ChainDeps {
  logger: Logger;
  metrics?: PolicyMetrics;
  /** Watch the keys and users files (default true). */
  watch?: boolean;
}

/**
 * The methods of `config.authentication` (absent: Bearer when oidcConfig is set, else none —
 * authentication off). `bearer` is oidcConfig resolved (authnOptionsFromConfig). Undefined when
 * every caller is anonymous. jose and bcrypt load only for the methods that use them.
 */
export async function createAuthChain(config: AgentConfig, bearer: AuthnOptions | undefined, deps: ChainDeps): Promise<AuthChain | undefined> {
  const declared = config.authentication?.methods ?? (bearer ? [{ type: 'Bearer' as const }] : []);
  if (declared.length === 0 || (declared.length === 1 && declared[0]!.type === 'None')) return undefined;
  const methods: AuthMethod[] = [];
  const create = async (m: (typeof declared)[number]): Promise<AuthMethod> => {
    switch (m.type) {
      case 'None':
        return noneMethod;
      case 'Bearer':
      case 'JWT': {
        if (!bearer) throw new Error(`authentication: ${m.type} needs oidcConfig`);
        const { Authenticator } = await import('./index.js');
        return new BearerMethod(m.type, new Authenticator(m.type === 'JWT' ? { ...bearer, method: 'JWT', introspectionURL: undefined } : bearer));
      }
      case 'ApiKey':
        return new ApiKeyMethod({ logger: deps.logger, keysFile: m.keysFile!, header: m.header, watch: deps.watch });
      case 'Basic': {
        const { BasicMethod } = await import('./basic.js');
        return new BasicMethod({ logger: deps.logger, usersFile: m.usersFile!, realm: m.realm ?? config.name ?? 'mcp', watch: deps.watch });
      }
      case 'ClientCertificate':
        return new ClientCertificateMethod();
    }
  };
  try {
    for (const m of declared) methods.push(await create(m));
  } catch (e) {
    for (const m of methods) m.close?.();
    throw e;
  }
  const maxPerMinute = config.authentication?.maxFailuresPerMinute ?? DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE;
  return new AuthChain(methods, new FailureLimiter({ maxPerMinute }), deps.metrics);
}
