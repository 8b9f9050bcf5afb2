// Types shared by the policy stages. Kept free of imports from the stages so each stage can be
// used (and tested) on its own.

export { ANONYMOUS, type Principal } from '../core/principal.js';
export { isRefusal, Refusal, Refusals } from '../protocol/refusal.js';

/** Minimal metrics seam; the agent passes its prom-client wrapper, tests pass nothing or a spy. */
export interface PolicyMetrics {
  /** A policy reload failed and the previous policy set stays active. */
  policyReloadFailed?(): void;
  policyReloaded?(): void;
  /** One authorization decision (`allow`/`deny`), `cached` when served from the decision cache. */
  decision?(decision: 'allow' | 'deny', cached: boolean): void;
  /** Authentication outcome. */
  authn?(outcome: 'ok' | 'cached' | 'rejected'): void;
  /** A limit refused a request. */
  limited?(kind: 'rate' | 'tool-rate' | 'concurrency' | 'principal-concurrency'): void;
}
