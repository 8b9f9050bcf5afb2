// Test doubles for the multiplexer's unit tests: a scripted server transport, a recording
// response channel and a session factory. Not used by the agent itself.
import pino from 'pino';
import { principalNamed } from '../core/principal.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import type { ResponseChannel } from './channels.js';
import { ClientSession, type ClientCapabilities } from './client-session.js';
import { UpstreamSession, type UpstreamSessionHooks } from './upstream-session.js';

/** A server the test speaks for: answers initialize itself, records everything else it is sent. */
export class ScriptedServer implements UpstreamTransport {
  readonly description = 'scripted test server';
  onmessage?: (message: JsonRpcMessage, raw?: string) => void;
  onclose?: (reason: string) => void;
  readonly received: Array<Record<string, any>> = [];
  constructor(private readonly initializeResult: Record<string, unknown> = { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'scripted', version: '1' } }) {}
  start = async () => {};
  close = async () => {};
  send(frame: string): void {
    const m = JSON.parse(frame) as Record<string, any>;
    if (m.method === 'initialize') {
      queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: m.id, result: this.initializeResult }));
      return;
    }
    this.received.push(m);
  }
  /** The server says `message` (serialized as `raw` when given, the way the line parser hands it on). */
  say(message: Record<string, unknown>, raw?: string): void {
    this.onmessage?.(message as unknown as JsonRpcMessage, raw);
  }
  /** Requests the agent sent, of one method. */
  sent(method: string): Array<Record<string, any>> {
    return this.received.filter((m) => m.method === method);
  }
}

/** A ResponseChannel that keeps what it was given. */
export class RecordingChannel implements ResponseChannel {
  readonly responses: Array<Record<string, any>> = [];
  readonly frames: string[] = [];
  readonly relatedFrames: Array<Record<string, any>> = [];
  abandoned = 0;
  respond(frame: string): void {
    this.frames.push(frame);
    this.responses.push(JSON.parse(frame));
  }
  related(frame: string): void {
    this.relatedFrames.push(JSON.parse(frame));
  }
  abandon(): void {
    this.abandoned++;
  }
}

export const silentLogger = pino({ level: 'silent' });

export function upstreamFor(server: UpstreamTransport, hooks?: UpstreamSessionHooks, requestTimeoutMs = 10_000): UpstreamSession {
  return new UpstreamSession({
    connect: () => server,
    logger: silentLogger,
    clientInfo: { name: 'test', version: '1' },
    capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } },
    requestTimeoutMs,
    initializeTimeoutMs: 1000,
    restartMinDelayMs: 10,
    restartMaxDelayMs: 10,
    hooks,
  });
}

let seq = 0;
export function sessionOf(key = 'alice', capabilities: ClientCapabilities = {}, streamChannel?: ResponseChannel): ClientSession {
  return new ClientSession(`s${++seq}`, principalNamed(key), '2025-11-25', capabilities, { name: 'c', version: '1' }, streamChannel);
}
