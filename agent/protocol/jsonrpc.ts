/** JSON-RPC 2.0 shapes as the agent handles them: plain objects, validated structurally once. */
export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}
export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}
export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}
export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard and MCP error codes the agent emits. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Implementation-defined server errors. */
  ServerRestarted: -32001,
  RequestTimeout: -32002,
  Unauthorized: -32003,
  /** As ToolHive answers a policy denial (HTTP 403, JSON-RPC 403): its clients read either. */
  Forbidden: 403,
  /** As ToolHive answers a rate limit, with `data.retryAfterSeconds`. */
  RateLimited: -32029,
  Overloaded: -32006,
  /** 2026-07-28: a routing header disagrees with the body. */
  HeaderMismatch: -32020,
} as const;

export function isRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return (m as JsonRpcRequest).method !== undefined && (m as JsonRpcRequest).id !== undefined;
}
export function isNotification(m: JsonRpcMessage): m is JsonRpcNotification {
  return (m as JsonRpcNotification).method !== undefined && (m as JsonRpcRequest).id === undefined;
}
export function isResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return (m as JsonRpcNotification).method === undefined;
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcFailure {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/**
 * Classifies an already-parsed JSON value. Returns the message, or a reason string when it is
 * not a single JSON-RPC 2.0 message. Batches (arrays) are refused here, before any other stage:
 * a peer once let batched tool calls slip past its authorization, filters and audit.
 *
 * The message returned is what the agent forwards, so it must parse on strict peers (the v1
 * SDK's schemas are `.strict()` and drop a message they cannot parse without answering): only
 * the envelope members are kept, and what cannot be made to parse is refused here.
 */
export function asJsonRpcMessage(value: unknown): JsonRpcMessage | string {
  if (Array.isArray(value)) return 'JSON-RPC batches are not supported';
  if (value === null || typeof value !== 'object') return 'a JSON-RPC message must be an object';
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  const hasId = 'id' in m;
  if (hasId && !(typeof m.id === 'string' || (typeof m.id === 'number' && Number.isFinite(m.id)) || m.id === null)) {
    return 'id must be a string or a number';
  }
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method.length === 0) return 'method must be a non-empty string';
    if (hasId && m.id === null) return 'a request id must not be null';
    if (m.params !== undefined && !isPlainObject(m.params)) return 'params must be an object';
    const problem = metaProblem(m.params, 'params');
    if (problem) return problem;
    return envelope(m, REQUEST_MEMBERS);
  }
  if (!hasId) return 'a message needs a method or an id';
  const hasResult = 'result' in m;
  const hasError = 'error' in m;
  if (hasResult === hasError) return 'a response needs exactly one of result and error';
  if (hasError) {
    const e = m.error as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e.code !== 'number' || typeof e.message !== 'string') {
      return 'error must be an object with a numeric code and a message';
    }
    if (!Number.isInteger(e.code)) return 'error.code must be an integer';
  } else {
    if (!isPlainObject(m.result)) return 'result must be an object';
    const problem = metaProblem(m.result, 'result');
    if (problem) return problem;
  }
  return envelope(m, RESPONSE_MEMBERS);
}

const REQUEST_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RESPONSE_MEMBERS = new Set(['jsonrpc', 'id', 'result', 'error']);

/** `m` itself when it has no other members (the common case, no copy), else a copy of just the envelope. */
function envelope(m: Record<string, unknown>, members: Set<string>): JsonRpcMessage {
  for (const key in m) {
    if (members.has(key)) continue;
    const copy: Record<string, unknown> = {};
    for (const k of members) if (k in m) copy[k] = m[k];
    return copy as unknown as JsonRpcMessage;
  }
  return m as unknown as JsonRpcMessage;
}

/** Every MCP params and result object may carry `_meta`; a malformed one fails the whole message. */
function metaProblem(container: unknown, where: string): string | undefined {
  const meta = (container as { _meta?: unknown } | undefined)?._meta;
  if (meta === undefined) return undefined;
  if (!isPlainObject(meta)) return `${where}._meta must be an object`;
  const token = (meta as { progressToken?: unknown }).progressToken;
  if (token !== undefined && typeof token !== 'string' && !Number.isInteger(token)) {
    return `${where}._meta.progressToken must be a string or an integer`;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
