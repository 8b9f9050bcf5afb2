import type { Context } from 'hono';
import type { AgentApp } from './downstream/exchange.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AgentConfig } from '../api/agent-config.js';
import { emptyAgentConfig, splitReloadable } from '../api/agent-constants.js';
import { durationToMs } from '../api/v1beta1/defaults.js';
import type { GatewayPolicy } from './mux/gateway.js';
import { createPolicyMetrics, createPolicyPipeline, limitsFromConfig, type PolicyMetrics, type PolicyPipeline, type Principal, type Refusal } from './policy/index.js';
import type { Limits } from './policy/limits/index.js';
import type { UpstreamIdentity } from './policy/identity/index.js';
import type { ClientSession } from './mux/client-session.js';
import type { Credentials } from './policy/authn/credentials.js';

/** The policy pipeline as the agent's HTTP layer sees it (authentication happens per HTTP request). */
export interface AgentPolicy extends GatewayPolicy {
  authenticate(credentials: Credentials): Principal | Refusal | Promise<Principal | Refusal>;
  /** The server's tools with their annotations (readOnlyHint, …), for policies that use them. */
  observeToolsList?(result: { tools: unknown[] }): void;
  /**
   * The caller's identity for its own upstream session (config `identity`); undefined: the server
   * takes none. `audience` asks an exchange for another audience than the configured one (a backend's).
   */
  upstreamIdentity?(session: ClientSession, audience?: string): Promise<UpstreamIdentity | Refusal> | undefined;
  /** Extra routes: RFC 9728 metadata and the like. */
  mount?(app: AgentApp): void;
  close(): Promise<void>;
}

/** The policy pipeline plus what it decided about the agent's own limits. */
export interface BoundPolicy {
  policy: AgentPolicy;
  /** `limits.requestTimeout` from the config file, when set (it wins over --request-timeout). */
  requestTimeoutMs: number | undefined;
  /** `limits.maxBodyBytes` from the config file, when set. */
  maxBodyBytes: number | undefined;
  /**
   * Applies new policy sections in place: the reloadable ones (RELOADABLE_KEYS) replace the
   * current ones at once, for the next request; the rest keep what the agent started with.
   * Resolves to the reloadable keys it applied (none: nothing was rebuilt) and the other keys that
   * changed but wait for a restart. Throws, keeping the current set, when the new one is invalid.
   */
  reload(sections: Record<string, unknown>): Promise<{ applied: string[]; needRestart: string[] }>;
  /** The validated config now in force (the last good one). */
  config(): AgentConfig;
}

interface Built {
  config: AgentConfig;
  pipeline: PolicyPipeline;
  limits: Limits;
}

/** One validated policy set, with the limits (and their counters) carried over from the last. */
async function build(sections: Record<string, unknown>, logger: Logger, metrics: PolicyMetrics, limits?: Limits): Promise<Built> {
  // No policy at all needs no validator: typebox then never loads (api/agent-constants.ts).
  const config: AgentConfig = Object.keys(sections).length === 0 ? emptyAgentConfig() : (await import('../api/agent-config.js')).parseAgentConfig(sections);
  // Audit lines record policy decisions; with no policy at all there are none to record (and a
  // line per call would only cost the hot path). `audit.enabled: true` keeps them anyway.
  const unpoliced = !config.oidcConfig && !config.authzConfig && !config.toolsFilter && !config.readOnly && !config.approval;
  const auditSet = (sections.audit as { enabled?: unknown } | undefined)?.enabled !== undefined;
  if (unpoliced && !auditSet && config.audit) config.audit = { ...config.audit, enabled: false };
  const kept = limits ?? limitsFromConfig(config, metrics);
  const pipeline = await createPolicyPipeline(config, { logger, metrics, limits: kept });
  return { config, pipeline, limits: kept };
}

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/**
 * Validates the policy sections of the agent config (errors name the field) and binds the
 * pipeline (agent/policy) to the data path's seams: authentication per HTTP request, checks and
 * limits per message, result filtering per response, RFC 9728 metadata routes. Every seam reads
 * the current pipeline when called, so a reload swaps them all with one assignment.
 */
export async function bindPolicy(sections: Record<string, unknown>, logger: Logger, registry: Registry): Promise<BoundPolicy> {
  const metrics = createPolicyMetrics(registry);
  let current = await build(sections, logger, metrics);
  let applied = sections;
  // The server's tool annotations, for a reloaded set: read-only mode and Cedar need them at once.
  let lastTools: { tools: unknown[] } | undefined;
  const policy: AgentPolicy = {
    authenticate: (credentials) => current.pipeline.authenticate(credentials),
    checkMessage: (session, message) => current.pipeline.checkRequest(session.caller, message, session.id),
    admit: (session) => current.pipeline.admit(session.caller),
    transformResult: (session, method, result) => current.pipeline.filterResult(session.caller, method, result),
    approvalFor: (_session, request) => current.pipeline.approvalFor(request),
    recordApproval: (session, ask, outcome) => current.pipeline.recordApproval(session.caller, session.id, ask, outcome),
    upstreamIdentity: (session, audience) => current.pipeline.upstreamIdentity(session.caller, audience),
    observeToolsList: (result) => {
      lastTools = result;
      current.pipeline.observeToolsList(result);
    },
    mount(app: AgentApp) {
      // RFC 9728 §3.1: the metadata of resource https://host/mcp lives at
      // /.well-known/oauth-protected-resource/mcp; the bare path serves it too for clients that look there.
      const serve = (c: Context) => {
        const scheme = c.req.header('x-forwarded-proto') ?? new URL(c.req.url).protocol.replace(':', '');
        const fallback = `${scheme}://${c.req.header('host') ?? 'localhost'}/mcp`;
        const { config, pipeline } = current;
        const doc = pipeline.protectedResourceMetadata(config.resourceURL ?? config.oidcConfig?.resourceURL ?? fallback);
        return doc ? c.json(doc) : c.json({ error: 'authentication is not configured' }, 404);
      };
      app.get('/.well-known/oauth-protected-resource', serve);
      app.get('/.well-known/oauth-protected-resource/mcp', serve);
    },
    close: () => current.pipeline.close(),
  };
  // Only limits the file sets override the CLI's; the schema's defaults must not.
  const given = (sections.limits ?? {}) as Record<string, unknown>;
  return {
    policy,
    requestTimeoutMs: given.requestTimeout !== undefined && current.config.limits?.requestTimeout ? durationToMs(current.config.limits.requestTimeout) : undefined,
    maxBodyBytes: given.maxBodyBytes !== undefined ? current.config.limits?.maxBodyBytes : undefined,
    config: () => current.config,
    async reload(next) {
      const was = splitReloadable(applied);
      const want = splitReloadable(next);
      const needRestart = changedKeys(was.restart, want.restart);
      const changed = changedKeys(was.reloadable, want.reloadable);
      if (!changed.length) return { applied: [], needRestart };
      const merged = { ...was.restart, ...want.reloadable };
      const built = await build(merged, logger, metrics, current.limits);
      if (lastTools) built.pipeline.observeToolsList(lastTools);
      const old = current;
      current = built;
      applied = merged;
      await old.pipeline.close();
      return { applied: changed, needRestart };
    },
  };
}
