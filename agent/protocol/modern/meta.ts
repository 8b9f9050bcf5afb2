/**
 * The 2026-07-28 revision's per-request metadata: the `_meta` envelope that replaced the
 * initialize handshake, and the HTTP headers that mirror the body (`MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name`). Pure functions; the HTTP layer decides what to answer.
 */
import { ErrorCode } from '../jsonrpc.js';
import { Refusal } from '../refusal.js';
import { SESSION_PROTOCOL_VERSIONS } from '../versions.js';

export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
export const LATEST_MODERN_PROTOCOL_VERSION = '2026-07-28';
/** Everything the agent speaks downstream, newest first (the `supported` list of -32022). */
export const ALL_PROTOCOL_VERSIONS: readonly string[] = [...MODERN_PROTOCOL_VERSIONS, ...[...SESSION_PROTOCOL_VERSIONS].reverse()];

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const RESERVED_PREFIX = 'io.modelcontextprotocol/';

/** MCP-reserved error codes of this revision. */
export const ModernErrorCode = {
  HeaderMismatch: ErrorCode.HeaderMismatch,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/** Revisions from 2026-07-28 on are stateless ("modern"); anything earlier is session based. */
export function isModernVersion(version: string | undefined): boolean {
  return version !== undefined && version >= '2026-07-28';
}
export function isSupportedModernVersion(version: string): boolean {
  return (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(version);
}

/** Methods whose `Mcp-Name` header is required, and the body field it mirrors. */
const NAME_SOURCE: Record<string, 'name' | 'uri'> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
export function nameSourceOf(method: string): 'name' | 'uri' | undefined {
  return NAME_SOURCE[method];
}

/** Decodes the `=?base64?…?=` sentinel form of `Mcp-Name` / `Mcp-Param-*`; plain values pass through. */
export function decodeHeaderValue(value: string): string | undefined {
  if (value.startsWith('=?base64?') && value.endsWith('?=') && value.length >= 11) {
    const b64 = value.slice(9, -2);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
    return Buffer.from(b64, 'base64').toString('utf8');
  }
  return value;
}

export interface Envelope {
  protocolVersion: string;
  clientInfo: { name: string; version: string } | undefined;
  clientCapabilities: Record<string, unknown>;
  logLevel: string | undefined;
  traceparent: string | undefined;
}


/** The headers the modern transport checks, lower-cased as Node gives them. */
export interface RoutingHeaders {
  protocolVersion: string | undefined;
  method: string | undefined;
  name: string | undefined;
}

/**
 * Checks a modern request's headers against its verified body (SEP-2243) and reads its
 * envelope. Order follows the spec's failure classes: unsupported version (-32022), missing or
 * mismatching routing header (-32020, 400), malformed envelope (-32602, 400).
 */
export function verifyRequest(
  headers: RoutingHeaders,
  method: string,
  params: Record<string, unknown> | undefined,
  isRequest: boolean,
): Envelope | Refusal {
  const version = headers.protocolVersion;
  if (version === undefined) return mismatch('required header MCP-Protocol-Version is missing');
  const meta = params?._meta as Record<string, unknown> | undefined;
  const claimed = meta?.[META_PROTOCOL_VERSION];
  if (claimed !== undefined && claimed !== version) {
    return mismatch(`MCP-Protocol-Version header value '${version}' does not match body value '${String(claimed)}'`);
  }
  if (!isSupportedModernVersion(version)) return unsupportedVersion(version);
  if (headers.method === undefined) {
    if (isRequest) return mismatch('required header Mcp-Method is missing');
  } else if (headers.method !== method) {
    return mismatch(`Mcp-Method header value '${headers.method}' does not match body value '${method}'`);
  }
  const source = nameSourceOf(method);
  if (source !== undefined && isRequest) {
    const bodyValue = params?.[source];
    if (headers.name === undefined) return mismatch('required header Mcp-Name is missing');
    const decoded = decodeHeaderValue(headers.name);
    if (decoded === undefined) return mismatch('Mcp-Name header is not valid base64');
    if (typeof bodyValue !== 'string' || decoded !== bodyValue) {
      return mismatch(`Mcp-Name header value '${headers.name}' does not match body value '${String(bodyValue)}'`);
    }
  }
  if (!isRequest) return { protocolVersion: version, clientInfo: undefined, clientCapabilities: {}, logLevel: undefined, traceparent: undefined };
  if (meta === undefined || typeof meta !== 'object' || Array.isArray(meta)) return invalidParams('_meta: the per-request envelope is required on protocol revision 2026-07-28');
  if (typeof claimed !== 'string') return invalidParams(`_meta: ${META_PROTOCOL_VERSION} is required`);
  const caps = meta[META_CLIENT_CAPABILITIES];
  if (caps === null || typeof caps !== 'object' || Array.isArray(caps)) return invalidParams(`_meta: ${META_CLIENT_CAPABILITIES} is required and must be an object`);
  const info = meta[META_CLIENT_INFO] as { name?: unknown; version?: unknown } | undefined;
  if (info !== undefined && (info === null || typeof info !== 'object' || typeof info.name !== 'string')) {
    return invalidParams(`_meta: ${META_CLIENT_INFO} must be an Implementation object`);
  }
  const logLevel = meta[META_LOG_LEVEL];
  return {
    protocolVersion: version,
    clientInfo: info === undefined ? undefined : { name: info.name as string, version: String(info.version ?? '') },
    clientCapabilities: caps as Record<string, unknown>,
    logLevel: typeof logLevel === 'string' ? logLevel : undefined,
    traceparent: typeof meta.traceparent === 'string' ? meta.traceparent : undefined,
  };
}

export function headerMismatch(message: string): Refusal {
  return new Refusal(400, ModernErrorCode.HeaderMismatch, `Header mismatch: ${message}`);
}
const mismatch = headerMismatch;
function invalidParams(message: string): Refusal {
  return new Refusal(400, ErrorCode.InvalidParams, `Invalid _meta envelope: ${message}`);
}
/** -32022 with the versions a client may retry with (all of them, unless `supported` narrows it). */
export function unsupportedVersion(requested: string, supported: readonly string[] = ALL_PROTOCOL_VERSIONS): Refusal {
  return new Refusal(400, ModernErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', undefined, undefined, { supported: [...supported], requested });
}

/**
 * The envelope's `io.modelcontextprotocol/*` keys mean nothing to a 2025-era server (and
 * `logLevel` would be misread as a request for logs); they are removed before a request is
 * forwarded to one. `progressToken`, trace context and vendor keys stay.
 */
export function stripEnvelope(params: Record<string, unknown> | undefined): void {
  const meta = params?._meta as Record<string, unknown> | undefined;
  if (meta === undefined) return;
  // A new object rather than `delete` (which turns both objects into slow dictionaries, and the
  // request is serialized right after); an emptied `_meta` becomes undefined, which JSON omits.
  let kept: Record<string, unknown> | undefined;
  for (const key in meta) {
    if (key.startsWith(RESERVED_PREFIX)) continue;
    (kept ??= {})[key] = meta[key];
  }
  params!._meta = kept;
}

/** Whether a result of `method` needs the cacheability hints (`ttlMs`, `cacheScope`). */
export function isCacheable(method: string): boolean {
  return CACHEABLE.has(method);
}

/** Cacheable list/read results must carry `ttlMs` and `cacheScope` in this revision. */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/read', 'resources/templates/list']);

/**
 * A 2025-era result as a 2026-07-28 result: `resultType: "complete"`, and for cacheable results
 * freshness hints. The scope is `private`: the agent filters lists per principal, so a shared
 * intermediary must not reuse one principal's answer for another.
 */
export function modernizeResult(method: string, result: Record<string, unknown>, serverInfo: unknown): Record<string, unknown> {
  if (result.resultType === undefined) result.resultType = 'complete';
  if (CACHEABLE.has(method)) {
    if (typeof result.ttlMs !== 'number') result.ttlMs = 0;
    if (result.cacheScope !== 'public' && result.cacheScope !== 'private') result.cacheScope = 'private';
  }
  if (serverInfo !== undefined) {
    const meta = (result._meta ?? {}) as Record<string, unknown>;
    if (meta[META_SERVER_INFO] === undefined) result._meta = { ...meta, [META_SERVER_INFO]: serverInfo };
  }
  return result;
}
