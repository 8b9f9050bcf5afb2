import type { JsonRpcResponse } from '../protocol/jsonrpc.js';

/**
 * Where the multiplexer writes what the server says back. Frames are serialized JSON-RPC
 * messages; each transport decides how they travel (an HTTP body, SSE events, WebSocket frames).
 */
export interface ResponseChannel {
  /**
   * The final response to one client request. Called at most once. `message`, when given, is
   * the parsed form of `frame` (the channel's to keep or change: nothing else holds it), so a
   * channel that must rewrite the response need not parse the frame again.
   */
  respond(frame: string, message?: JsonRpcResponse): void;
  /** A message that belongs to the request and precedes its response: progress, or a server→client request. */
  related(frame: string): void;
  /** The request was cancelled by the client; no response will follow. */
  abandon(): void;
}

/** Server-initiated messages not tied to a client request (list_changed, log messages, updates). */
export interface SessionSink {
  deliver(frame: string): void;
}
