// Audit stage: one structured pino line per policy decision: who (iss/sub), session, method,
// target, decision, the policies that decided, latency. Never a token; tool/prompt arguments only
// when asked for, with values of configured argument names redacted at any depth.
import type { Logger } from 'pino';
import { DEFAULT_REDACTED_ARGUMENTS } from '../../../api/v1beta1/defaults.js';
import type { Principal } from '../types.js';

export interface AuditOptions {
  enabled?: boolean;
  includeArguments?: boolean;
  /** Argument names (case-insensitive, any depth) whose values are replaced by "[REDACTED]". */
  redactArguments?: readonly string[];
}

export interface AuditEntry {
  principal: Principal | undefined;
  sessionId?: string;
  method: string;
  /** Tool/prompt name or resource URI. */
  target?: string;
  decision: 'allow' | 'deny';
  /** Why it was denied (for operators, not sent to clients). */
  reason?: string;
  /** Cedar policy ids that determined the decision. */
  policies?: readonly string[];
  /** HTTP status of a refusal. */
  status?: number;
  latencyUs?: number;
  arguments?: unknown;
  cached?: boolean;
}

export const REDACTED = '[REDACTED]';

export function redact(value: unknown, names: ReadonlySet<string>, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 16) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, names, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = names.has(k.toLowerCase()) ? REDACTED : redact(v, names, depth + 1);
  }
  return out;
}

export class Auditor {
  readonly enabled: boolean;
  private readonly names: ReadonlySet<string>;
  private readonly log: Logger;

  constructor(
    logger: Logger,
    private readonly o: AuditOptions = {},
  ) {
    this.enabled = o.enabled !== false;
    this.names = new Set((o.redactArguments ?? DEFAULT_REDACTED_ARGUMENTS).map((n) => n.toLowerCase()));
    this.log = logger.child({ component: 'audit' });
  }

  record(e: AuditEntry): void {
    if (!this.enabled) return;
    const p = e.principal;
    const line: Record<string, unknown> = {
      audit: true,
      sub: p?.sub,
      iss: p?.iss,
      session: e.sessionId,
      method: e.method,
      target: e.target,
      decision: e.decision,
    };
    if (e.reason !== undefined) line.reason = e.reason;
    if (e.policies !== undefined && e.policies.length > 0) line.policies = e.policies;
    if (e.status !== undefined) line.status = e.status;
    if (e.cached !== undefined) line.cached = e.cached;
    if (e.latencyUs !== undefined) line.latency_us = Math.round(e.latencyUs * 10) / 10;
    if (this.o.includeArguments && e.arguments !== undefined) line.arguments = redact(e.arguments, this.names);
    this.log.info(line, e.decision === 'allow' ? 'allowed' : 'denied');
  }
}
