import type { Principal } from '../core/principal.js';
import type { ResponseChannel, SessionSink } from './channels.js';

/** MCP logging levels in increasing severity (RFC 5424 names, as the spec uses them). */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export function logLevelRank(level: unknown): number {
  const i = LOG_LEVELS.indexOf(level as LogLevel);
  return i === -1 ? 0 : i;
}

export interface ClientCapabilities {
  sampling?: unknown;
  elicitation?: unknown;
  roots?: { listChanged?: boolean };
  [key: string]: unknown;
}

/** One downstream MCP session, whatever transport carries it. */
export class ClientSession {
  /** Resource URIs this session subscribed to (the upstream subscription is reference-counted). */
  readonly subscriptions = new Set<string>();
  /** Server→client request ids routed to this session and not answered yet. */
  readonly openServerRequests = new Set<string | number>();
  /** Minimum severity of `notifications/message` this session wants; undefined = not set (all). */
  logLevel: number | undefined;
  lastActivity = Date.now();
  closed = false;
  /** Resumed from a sealed id on a replica that did not start it: subscriptions and the log level stayed behind. */
  resumed = false;
  /** Where unsolicited server messages go; undefined while no stream is open (messages are dropped). */
  sink: SessionSink | undefined;

  readonly principalKey: string;

  constructor(
    readonly id: string,
    /** The verified identity of the latest request on this session (same key, possibly fresher claims). */
    public caller: Principal,
    readonly protocolVersion: string,
    readonly capabilities: ClientCapabilities,
    readonly clientInfo: unknown,
    /** The channel for server messages when the transport has one stream per session (WebSocket, legacy SSE). */
    readonly streamChannel?: ResponseChannel,
  ) {
    this.principalKey = caller.key;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }
}
