// Types shared by the policy stages. Kept free of imports from the stages so each stage can be
// used (and tested) on its own.
import { ErrorCode } from '../protocol/jsonrpc.js';

/** Who is calling. One object per verified token; stages may cache derived data keyed on it (WeakMap). */
export interface Principal {
  /** Stable identity for limits and audit: `iss|sub`, or `anonymous` when authentication is off. */
  readonly key: string;
  readonly sub: string;
  readonly iss?: string;
  /** Verified token claims (or introspection response). Never the token itself. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
  /** Epoch seconds. */
  readonly expiresAt?: number;
}

/**
 * A refusal: the HTTP status the transport answers with, the JSON-RPC error for the body (with the
 * request's id), and headers (`WWW-Authenticate`, `Retry-After`). `status` 200 means "answer with a
 * JSON-RPC error on a normal response", exactly as the server would (unknown tool, method not found).
 */
export class Rejection {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly message: string,
    readonly headers: Readonly<Record<string, string>> = NO_HEADERS,
    /** For audit and logs only; never sent to the client. */
    readonly reason?: string,
  ) {}

  /** The JSON-RPC error object for the response body. */
  toError(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function isRejection(v: unknown): v is Rejection {
  return v instanceof Rejection;
}

export const ANONYMOUS: Principal = Object.freeze({
  key: 'anonymous',
  sub: 'anonymous',
  claims: Object.freeze({}),
  scopes: Object.freeze([]) as readonly string[],
});

/** Rejections without per-request data are allocated once. */
export const Rejections = {
  forbidden: (reason?: string) => new Rejection(403, ErrorCode.Forbidden, 'Forbidden: denied by authorization policy', undefined, reason),
  methodNotFound: (method: string) => new Rejection(200, ErrorCode.MethodNotFound, `Method not found: ${method}`),
  unknownTool: (name: string) => new Rejection(200, ErrorCode.InvalidParams, `Unknown tool: ${name}`),
  unknownPrompt: (name: string) => new Rejection(200, ErrorCode.InvalidParams, `Unknown prompt: ${name}`),
  invalidParams: (message: string) => new Rejection(200, ErrorCode.InvalidParams, message),
};

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
  limited?(kind: 'rate' | 'concurrency' | 'principal-concurrency'): void;
}
