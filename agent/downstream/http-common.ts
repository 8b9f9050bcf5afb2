import type { IncomingMessage } from 'node:http';
import { ErrorCode, asJsonRpcMessage, type JsonRpcId, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { Principal } from '../core/principal.js';
import { RequestCredentials } from '../policy/authn/credentials.js';
import { isRefusal, type Refusal } from '../protocol/refusal.js';
import type { DownstreamContext } from './context.js';
import { JsonReply, type Exchange } from './exchange.js';

/** An HTTP error whose body is a JSON-RPC error object, as MCP clients expect. */
export function jsonRpcError(
  status: number,
  id: JsonRpcId | null,
  code: number,
  message: string,
  headers?: Record<string, string>,
): JsonReply {
  return new JsonReply(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }), headers, status);
}

/** A refusal as HTTP: its status, its headers, its JSON-RPC error for request `id` as the body. */
export function refusalResponse(id: JsonRpcId | null, refusal: Refusal): JsonReply {
  return new JsonReply(refusal.frame(id), refusal.headers, refusal.status);
}

/**
 * DNS-rebinding protection, the first check on every MCP transport: the Host must be one of
 * the agent's names (first, because the Origin rule trusts an Origin equal to the Host), then
 * an Origin, when present, must be allowed. Refused → 403.
 */
export function checkHostAndOrigin(c: Exchange, ctx: DownstreamContext): JsonReply | undefined {
  const host = c.req.header('host');
  if (!ctx.hostAllowed(host)) {
    const what = host === undefined ? 'a request without a Host header' : `Host ${host}`;
    return jsonRpcError(403, null, ErrorCode.InvalidRequest, `${what} is not allowed (DNS-rebinding protection; see --allowed-hosts)`);
  }
  const origin = c.req.header('origin');
  if (origin === undefined || ctx.originAllowed(origin, host)) return undefined;
  return jsonRpcError(403, null, ErrorCode.InvalidRequest, `origin ${origin} is not allowed`);
}

/** What a transport's endpoint needs the client to accept. */
export interface AcceptRule {
  types: readonly string[];
  /** A request without an Accept header passes (legacy SSE clients often send none). */
  missingOk?: boolean;
  message: string;
}
export const ACCEPT_JSON_AND_SSE: AcceptRule = { types: ['application/json', 'text/event-stream'], message: 'Accept must include application/json and text/event-stream' };
export const ACCEPT_SSE: AcceptRule = { types: ['text/event-stream'], message: 'Accept must include text/event-stream' };
export const ACCEPT_SSE_OR_NONE: AcceptRule = { ...ACCEPT_SSE, missingOk: true };

/**
 * The preamble of every downstream HTTP exchange (streamable HTTP POST/GET/DELETE, legacy SSE,
 * the WebSocket upgrade), in one order: Host and Origin (DNS rebinding), then Accept when the
 * endpoint needs it, then credentials. The caller, or the response that refuses the exchange.
 * Synchronous unless the token must be verified (a cached token is answered at once).
 */
export function preamble(c: Exchange, ctx: DownstreamContext, accept?: AcceptRule): Principal | JsonReply | Promise<Principal | JsonReply> {
  const refused = checkHostAndOrigin(c, ctx);
  if (refused) return refused;
  if (accept !== undefined) {
    const header = c.req.header('accept');
    if (!(header === undefined && accept.missingOk) && !accept.types.every((t) => accepts(header, t))) {
      return jsonRpcError(406, null, ErrorCode.InvalidRequest, accept.message);
    }
  }
  const result = ctx.authenticate(new RequestCredentials(c.req, c.env.incoming?.socket));
  return result instanceof Promise ? result.then(callerOrRefusal) : callerOrRefusal(result);
}

function callerOrRefusal(result: Principal | Refusal): Principal | JsonReply {
  return isRefusal(result) ? refusalResponse(null, result) : result;
}

/** Reads and classifies a POST body: one JSON-RPC message, or the HTTP error to answer with. */
export async function readMessage(c: Exchange, ctx: DownstreamContext): Promise<JsonRpcMessage | JsonReply> {
  const type = c.req.header('content-type');
  if (type === undefined || !type.toLowerCase().startsWith('application/json')) {
    return jsonRpcError(415, null, ErrorCode.InvalidRequest, 'Content-Type must be application/json');
  }
  const length = c.req.header('content-length');
  if (length !== undefined && Number(length) > ctx.maxBodyBytes) return tooLarge(ctx);
  let text: string | undefined;
  try {
    text = await readBody(c.env.incoming, ctx.maxBodyBytes);
  } catch {
    return jsonRpcError(400, null, ErrorCode.ParseError, 'request body could not be read');
  }
  if (text === undefined) return tooLarge(ctx);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return jsonRpcError(400, null, ErrorCode.ParseError, 'request body is not valid JSON');
  }
  const message = asJsonRpcMessage(value);
  if (typeof message === 'string') {
    const id = idOf(value);
    return jsonRpcError(400, id, ErrorCode.InvalidRequest, `invalid JSON-RPC message: ${message}`);
  }
  return message;
}

/**
 * Reads the body straight from Node's request stream, stopping at `max` bytes (→ undefined).
 * Hand-written rather than Hono's bodyLimit middleware: that one reads `c.req.raw.body`,
 * which makes the Node adapter build a full web Request per call and costs the hot path dearly.
 */
function readBody(incoming: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else {
        incoming.off('data', onData);
        incoming.resume();
        resolve(undefined);
      }
    };
    incoming.on('data', onData);
    incoming.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
    incoming.once('error', reject);
  });
}

function tooLarge(ctx: DownstreamContext): JsonReply {
  return jsonRpcError(413, null, ErrorCode.InvalidRequest, `request body exceeds ${ctx.maxBodyBytes} bytes`);
}

function idOf(value: unknown): JsonRpcId | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** True when an Accept header admits `type` (exact, `type/*` or `*\/*`). */
export function accepts(accept: string | undefined, type: string): boolean {
  if (accept === undefined) return false;
  if (accept.includes(type) || accept.includes('*/*')) return true;
  return accept.includes(`${type.slice(0, type.indexOf('/'))}/*`);
}
