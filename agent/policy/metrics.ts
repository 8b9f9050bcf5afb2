// prom-client counters for the policy pipeline, registered in the agent's registry.
import type { Registry } from 'prom-client';
import { Counter } from '../ops/prom.js';
import type { PolicyMetrics } from './types.js';

export function createPolicyMetrics(registry: Registry): PolicyMetrics {
  const reloads = new Counter({ name: 'ome_mcp_policy_reloads_total', help: 'Authorization policy sets reloaded', registers: [registry] });
  const reloadFailures = new Counter({
    name: 'ome_mcp_policy_reload_failures_total',
    help: 'Authorization policy reloads refused (the previous set stays active)',
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'ome_mcp_authz_decisions_total',
    help: 'Authorization decisions by result and whether the decision cache answered',
    labelNames: ['decision', 'cached'] as const,
    registers: [registry],
  });
  const authn = new Counter({ name: 'ome_mcp_authn_total', help: 'Authentication outcomes', labelNames: ['outcome'] as const, registers: [registry] });
  const limited = new Counter({ name: 'ome_mcp_limited_total', help: 'Requests refused by a limit', labelNames: ['kind'] as const, registers: [registry] });
  // label children resolved once: the hot path does no label hashing
  const d = {
    allow: { true: decisions.labels('allow', 'true'), false: decisions.labels('allow', 'false') },
    deny: { true: decisions.labels('deny', 'true'), false: decisions.labels('deny', 'false') },
  };
  const a = { ok: authn.labels('ok'), cached: authn.labels('cached'), rejected: authn.labels('rejected') };
  return {
    policyReloaded: () => reloads.inc(),
    policyReloadFailed: () => reloadFailures.inc(),
    decision: (decision, cached) => d[decision][cached ? 'true' : 'false'].inc(),
    authn: (outcome) => a[outcome].inc(),
    limited: (kind) => limited.labels(kind).inc(),
  };
}
