import type { Context } from 'hono';
import type { AgentApp } from './downstream/exchange.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { durationToMs, parseAgentConfig } from '../api/agent-config.js';
import type { GatewayPolicy } from './mux/gateway.js';
import { createPolicyMetrics, createPolicyPipeline, type Principal, type Refusal } from './policy/index.js';

/** The policy pipeline as the agent's HTTP layer sees it (authentication happens per HTTP request). */
export interface AgentPolicy extends GatewayPolicy {
  authenticate(authorization: string | undefined): Principal | Refusal | Promise<Principal | Refusal>;
  /** The server's tools with their annotations (readOnlyHint, …), for policies that use them. */
  observeToolsList?(result: { tools: unknown[] }): void;
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
}

/**
 * Validates the policy sections of the agent config (errors name the field) and binds the
 * pipeline (agent/policy) to the data path's seams: authentication per HTTP request, checks and
 * limits per message, result filtering per response, RFC 9728 metadata routes.
 */
export async function bindPolicy(sections: Record<string, unknown>, logger: Logger, registry: Registry): Promise<BoundPolicy> {
  const config = parseAgentConfig(sections);
  // Audit lines record policy decisions; with no policy at all there are none to record (and a
  // line per call would only cost the hot path). `audit.enabled: true` keeps them anyway.
  const unpoliced = !config.oidcConfig && !config.authzConfig && !config.toolsFilter && !config.readOnly;
  const auditSet = (sections.audit as { enabled?: unknown } | undefined)?.enabled !== undefined;
  if (unpoliced && !auditSet && config.audit) config.audit = { ...config.audit, enabled: false };
  const pipeline = await createPolicyPipeline(config, { logger, metrics: createPolicyMetrics(registry) });
  const policy: AgentPolicy = {
    authenticate: (header) => pipeline.authenticate(header),
    checkMessage: (session, message) => pipeline.checkRequest(session.caller, message, session.id),
    admit: (session) => pipeline.admit(session.caller),
    transformResult: (session, method, result) => pipeline.filterResult(session.caller, method, result),
    observeToolsList: (result) => pipeline.observeToolsList(result),
    mount(app: AgentApp) {
      // RFC 9728 §3.1: the metadata of resource https://host/mcp lives at
      // /.well-known/oauth-protected-resource/mcp; the bare path serves it too for clients that look there.
      const serve = (c: Context) => {
        const fallback = `${c.req.header('x-forwarded-proto') ?? 'http'}://${c.req.header('host') ?? 'localhost'}/mcp`;
        const doc = pipeline.protectedResourceMetadata(config.resourceURL ?? config.oidcConfig?.resourceURL ?? fallback);
        return doc ? c.json(doc) : c.json({ error: 'authentication is not configured' }, 404);
      };
      app.get('/.well-known/oauth-protected-resource', serve);
      app.get('/.well-known/oauth-protected-resource/mcp', serve);
    },
    close: () => pipeline.close(),
  };
  // Only limits the file sets override the CLI's; the schema's defaults must not.
  const given = (sections.limits ?? {}) as Record<string, unknown>;
  return {
    policy,
    requestTimeoutMs: given.requestTimeout !== undefined && config.limits?.requestTimeout ? durationToMs(config.limits.requestTimeout) : undefined,
    maxBodyBytes: given.maxBodyBytes !== undefined ? config.limits?.maxBodyBytes : undefined,
  };
}
