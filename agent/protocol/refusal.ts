// The agent's one word for "no": every stage that refuses something — the Host/Origin check,
// authentication, authorization, filters, limits, the gateway (session limits, draining), the
// 2026-07-28 envelope checks — answers with a Refusal, and every transport turns it into its
// own form once (an HTTP status + JSON-RPC error body + headers, or a JSON-RPC error frame on a
// WebSocket or SSE stream). Defined once, here; nothing converts it into another shape.
import { ErrorCode, type JsonRpcErrorObject, type JsonRpcId } from './jsonrpc.js';

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export class Refusal {
  constructor(
    /**
     * The HTTP status a transport answers with. 200 means "a JSON-RPC error on a normal
     * response", exactly as the server itself would answer (unknown tool, method not found).
     */
    readonly status: number,
    /** The JSON-RPC error code. */
    readonly code: number,
    /** The JSON-RPC error message (sent to the client). */
    readonly message: string,
    /** Response headers: `WWW-Authenticate`, `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = NO_HEADERS,
    /** For audit and logs only; never sent to the client. */
    readonly reason?: string,
    /** JSON-RPC error data (e.g. the supported protocol versions). */
    readonly data?: unknown,
  ) {}

  /** The RFC 6750 challenge, when the refusal is about credentials. */
  get wwwAuthenticate(): string | undefined {
    return this.headers['WWW-Authenticate'];
  }

  /** The JSON-RPC error object for the response body. */
  toError(): JsonRpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }

  /** The serialized JSON-RPC error response for request `id`. */
  frame(id: JsonRpcId | null): string {
    return JSON.stringify({ jsonrpc: '2.0', id, error: this.toError() });
  }
}

export function isRefusal(value: unknown): value is Refusal {
  return value instanceof Refusal;
}

/** The refusals several stages give. */
export const Refusals = {
  forbidden: (reason?: string) => new Refusal(403, ErrorCode.Forbidden, 'Forbidden: denied by authorization policy', undefined, reason),
  methodNotFound: (method: string) => new Refusal(200, ErrorCode.MethodNotFound, `Method not found: ${method}`),
  unknownTool: (name: string) => new Refusal(200, ErrorCode.InvalidParams, `Unknown tool: ${name}`),
  unknownPrompt: (name: string) => new Refusal(200, ErrorCode.InvalidParams, `Unknown prompt: ${name}`),
  invalidParams: (message: string) => new Refusal(200, ErrorCode.InvalidParams, message),
  /** A malformed or misplaced request, answered with `status` (400, 404, 406, 415, …). */
  invalidRequest: (status: number, message: string) => new Refusal(status, ErrorCode.InvalidRequest, message),
  /** A rate limit: HTTP 429 with Retry-After, and the retry hint in the error data (ToolHive's shape). */
  rateLimited: (message: string, retryAfterSeconds: number, reason: string) =>
    new Refusal(429, ErrorCode.RateLimited, message, { 'Retry-After': String(retryAfterSeconds) }, reason, { retryAfterSeconds }),
  /** The agent cannot take the work now (draining, session or process limits, server not ready). */
  overloaded: (message: string, retryAfterSeconds?: number) =>
    new Refusal(503, ErrorCode.Overloaded, message, retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) }),
};
