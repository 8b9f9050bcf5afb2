import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

/**
 * A transport that knows which client call a server→client request belongs to (the 2026-07-28
 * bridge turning an input-required result into requests) tags the message with the call's
 * upstream id under this symbol; it never reaches the wire.
 */
export const RELATED_REQUEST = Symbol('relatedRequest');

/**
 * The one seam between the multiplexer and whatever carries bytes to an MCP server:
 * a child's stdio, a FIFO pair in a shared emptyDir, a Kubernetes attach stream, or HTTP.
 * Modelled on the MCP SDK's Transport (start/send/close/onmessage/onclose/onerror), trimmed
 * to what the hot path needs: `send` is synchronous and takes an already-serialized frame.
 */
export interface UpstreamTransport {
  /** Human-readable description for logs and /readyz, e.g. `stdio: npx server-everything`. */
  readonly description: string;
  /** Opens the channel. Resolves once bytes can flow; rejects if the server cannot be reached. */
  start(): Promise<void>;
  /**
   * Sends one JSON-RPC message (serialized, no trailing newline). `caller`, with a client's
   * request, is its principal's key (the catalog caches results per principal); others ignore it.
   */
  send(frame: string, caller?: string): void;
  /** Closes the channel and releases the server (kills the child, closes the FIFOs, …). */
  close(): Promise<void>;
  /**
   * One parsed JSON-RPC message from the server; `raw`, when given, is the exact text it was
   * parsed from and nothing of it was dropped (so a receiver may forward those bytes instead of
   * serializing the message again).
   */
  onmessage?: (message: JsonRpcMessage, raw?: string) => void;
  /** The channel ended (process exit, EOF, socket close). `reason` is for logs. */
  onclose?: (reason: string) => void;
  /** A non-fatal problem (garbage on stdout, a failed write). */
  onerror?: (error: Error) => void;
}
