import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  isRequest,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.js';
import type { ApprovalAsk, ApprovalOutcome } from '../core/approval.js';
import type { Principal } from '../core/principal.js';
import { Refusal, Refusals } from '../protocol/refusal.js';
import { negotiateVersion } from '../protocol/versions.js';
import { Approvals } from './approval.js';
import type { ResponseChannel } from './channels.js';
import { ClientSession, type ClientCapabilities } from './client-session.js';
import type { UpstreamSession } from './upstream-session.js';
import type { SessionSealer, SessionState } from '../protocol/session-seal.js';

/**
 * What the policy pipeline contributes to the data path (all optional stages are no-ops without
 * config). The gateway is the one place the stages are composed, per message and for every
 * transport alike (HTTP POSTs, WebSocket frames, legacy SSE posts, 2026-07-28 requests): a
 * client message passes `checkMessage`, a request then `admit`; its response passes
 * `transformResult` and releases the slot (PolicedChannel). Authentication happens once per HTTP
 * exchange, before any message (downstream/http-common `preamble`).
 */
export interface GatewayPolicy {
  /** null = allowed. Runs on every client request and notification before it can reach the server. */
  checkMessage(session: ClientSession, message: JsonRpcRequest | JsonRpcNotification): Refusal | null;
  /** Concurrency and rate limits: a release function, or the refusal. */
  admit(session: ClientSession): (() => void) | Refusal;
  transformResult(session: ClientSession, method: string, result: Record<string, unknown>): Record<string, unknown>;
  /** A request that needs a person's approval before it may reach the server (undefined: none). */
  approvalFor?(session: ClientSession, request: JsonRpcRequest): ApprovalAsk | undefined;
  /** What came of an approval (an audit line). */
  recordApproval?(session: ClientSession, ask: ApprovalAsk, outcome: ApprovalOutcome): void;
}

export interface UpstreamPool {
  /** The upstream session a new client session uses (shared: always the same one). */
  acquire(session: ClientSession): Promise<UpstreamSession | Refusal>;
  /** The upstream a session would get, when it can be had at once (shared and ready): no promise per session. */
  readyUpstream?(session: ClientSession): UpstreamSession | undefined;
  release(session: ClientSession, upstream: UpstreamSession): void;
  readonly ready: boolean;
  readonly detail: string;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  pool: UpstreamPool;
  policy?: GatewayPolicy;
  logger: Logger;
  /** Sessions idle this long are ended (clients get 404 and re-initialize). */
  sessionIdleTimeoutMs: number;
  maxSessions: number;
  readyTimeoutMs: number;
  onSessionCountChange?: (count: number) => void;
  /**
   * Seals session ids so that a replica sharing the key can resume a session it does not hold
   * (shared servers only: a per-session process's state cannot move).
   */
  sealer?: SessionSealer;
  /** This replica's address as other replicas reach it; sealed into ids so their requests can be passed here. */
  self?: () => string;
}

interface SessionEntry {
  session: ClientSession;
  upstream: UpstreamSession;
  onEnd: Array<() => void>;
}

/**
 * The transport-independent core: creates sessions on `initialize` (answered from the
 * upstream's cached result), binds them to their principal, runs the policy hooks, and hands
 * everything else to the session's upstream.
 */
export class Gateway {
  private readonly entries = new Map<string, SessionEntry>();
  private readonly reaper: NodeJS.Timeout;
  private draining = false;
  private readonly approvals: Approvals;

  constructor(private readonly options: GatewayOptions) {
    this.approvals = new Approvals((session, ask, outcome) => options.policy?.recordApproval?.(session, ask, outcome));
    this.reaper = setInterval(() => this.reapIdle(), Math.min(60_000, Math.max(1000, options.sessionIdleTimeoutMs / 4)));
    this.reaper.unref();
  }

  get sessionCount(): number {
    return this.entries.size;
  }

  get ready(): boolean {
    return !this.draining && this.options.pool.ready;
  }

  /** Handles `initialize`: the new session and the serialized response, or the refusal. */
  async initialize(
    caller: Principal,
    request: JsonRpcRequest,
    streamChannel?: ResponseChannel,
  ): Promise<{ session: ClientSession; frame: string } | Refusal> {
    if (this.draining) return Refusals.overloaded('agent is shutting down');
    if (this.entries.size >= this.options.maxSessions) return Refusals.overloaded(`too many sessions (limit ${this.options.maxSessions})`, 5);
    const params = request.params ?? {};
    const version = negotiateVersion(params.protocolVersion);
    const capabilities = (params.capabilities ?? {}) as ClientCapabilities;
    const info = params.clientInfo as { name?: unknown; version?: unknown } | undefined;
    const clientInfo = { name: String(info?.name ?? 'client'), version: String(info?.version ?? '0') };
    const owner = this.options.self?.();
    const id = this.options.sealer?.seal({ version, principal: caller.key, capabilities, clientInfo, issuedAt: Date.now(), ...(owner ? { owner } : {}) }) ?? randomUUID();
    const session = new ClientSession(
      id,
      caller,
      version,
      (params.capabilities ?? {}) as ClientCapabilities,
      params.clientInfo,
      streamChannel,
    );
    const refusal = this.options.policy?.checkMessage(session, request);
    if (refusal) return refusal;
    const upstream = await this.adopt(session);
    if (upstream instanceof Refusal) return upstream;
    this.options.onSessionCountChange?.(this.entries.size);
    let result: Record<string, unknown> = { ...upstream.initializeResult!, protocolVersion: version };
    if (this.options.policy) result = this.options.policy.transformResult(session, 'initialize', result);
    return { session, frame: JSON.stringify({ jsonrpc: '2.0', id: request.id, result }) };
  }

  /**
   * Registers a session that no `initialize` opened: a 2026-07-28 request is stateless, so the
   * modern transport builds a short-lived session from the request's `_meta` envelope and ends
   * it (`end`) when the request is done. Everything in between is the path every session takes.
   */
  adopt(session: ClientSession): UpstreamSession | Refusal | Promise<UpstreamSession | Refusal> {
    if (this.draining) return Refusals.overloaded('agent is shutting down');
    // The common case (a shared server, ready) is synchronous: a 2026-07-28 request adopts a session per call.
    const ready = this.options.pool.readyUpstream?.(session);
    if (ready !== undefined) {
      ready.attach(session);
      this.entries.set(session.id, { session, upstream: ready, onEnd: [] });
      return ready;
    }
    return this.adoptWhenReady(session);
  }

  private async adoptWhenReady(session: ClientSession): Promise<UpstreamSession | Refusal> {
    const upstream = await this.options.pool.acquire(session);
    if (upstream instanceof Refusal) return upstream;
    if (upstream.state !== 'ready') {
      try {
        await upstream.whenReady(this.options.readyTimeoutMs);
      } catch (err) {
        this.options.pool.release(session, upstream);
        return Refusals.overloaded((err as Error).message, 1);
      }
    }
    upstream.attach(session);
    this.entries.set(session.id, { session, upstream, onEnd: [] });
    return upstream;
  }

  /** Runs the policy's message check alone (for requests the transport answers itself, e.g. `subscriptions/listen`). */
  check(session: ClientSession, message: JsonRpcRequest | JsonRpcNotification): Refusal | null {
    return this.options.policy?.checkMessage(session, message) ?? null;
  }

  /** The upstream a registered session uses (its era, server info). */
  upstreamOf(session: ClientSession): UpstreamSession | undefined {
    return this.entries.get(session.id)?.upstream;
  }

  /** What the server said about itself (its initialize result), as this session may see it (policy-filtered). */
  describeUpstream(session: ClientSession): Record<string, unknown> | undefined {
    const result = this.entries.get(session.id)?.upstream.initializeResult;
    if (result === undefined) return undefined;
    return this.options.policy ? this.options.policy.transformResult(session, 'initialize', { ...result }) : result;
  }

  /**
   * The session with this id, if it exists and belongs to this caller (else undefined → 404:
   * another principal's session id is indistinguishable from an unknown one).
   */
  lookup(id: string, caller: Principal): ClientSession | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.session.principalKey !== caller.key) return undefined;
    entry.session.caller = caller;
    return entry.session;
  }

  /**
   * A sealed session this process does not hold, opened once: its state (for `resume`) and the
   * replica that holds it while it lives (undefined: this one, or none). Undefined when the id is
   * held here or does not open.
   */
  sealed(id: string): { state: SessionState; owner: string | undefined } | undefined {
    if (this.entries.has(id)) return undefined;
    const state = this.options.sealer?.unseal(id);
    if (state === undefined) return undefined;
    return { state, owner: state.owner !== undefined && state.owner !== this.options.self?.() ? state.owner : undefined };
  }

  /**
   * A sealed session this process does not hold (another replica started it, or this process
   * before a restart): served from here on, when the id opens, belongs to this caller and the
   * server is ready. Subscriptions and the log level lived with the old holder: the client is
   * told to set them again.
   */
  resume(id: string, caller: Principal, state: SessionState | undefined): ClientSession | undefined {
    if (state === undefined || state.principal !== caller.key || this.draining || this.entries.size >= this.options.maxSessions) return undefined;
    const session = new ClientSession(id, caller, state.version, state.capabilities, state.clientInfo);
    const upstream = this.options.pool.readyUpstream?.(session);
    if (upstream === undefined) return undefined;
    upstream.attach(session);
    this.entries.set(session.id, { session, upstream, onEnd: [] });
    session.resumed = true;
    this.options.onSessionCountChange?.(this.entries.size);
    this.options.logger.info({ session: id.slice(0, 16), principal: caller.sub }, 'session resumed from its sealed id (started elsewhere)');
    return session;
  }

  /** Registers cleanup for a session (close its GET stream, socket, …). */
  onSessionEnd(session: ClientSession, fn: () => void): void {
    this.entries.get(session.id)?.onEnd.push(fn);
  }

  /**
   * Any message after initialize. Requests are answered on `channel`; returns the refusal to
   * send instead, or null when the message was accepted.
   */
  dispatch(session: ClientSession, message: JsonRpcMessage, channel: ResponseChannel | undefined): Refusal | null {
    const entry = this.entries.get(session.id);
    if (entry === undefined) return SESSION_NOT_FOUND;
    const m = message as JsonRpcRequest & JsonRpcResponse;
    if (m.method === undefined) {
      if (this.approvals.pending === 0 || !this.approvals.answer(session, m)) entry.upstream.reply(session, m);
      return null;
    }
    if (m.method === 'initialize') {
      return ALREADY_INITIALIZED;
    }
    const policy = this.options.policy;
    if (policy) {
      const refusal = policy.checkMessage(session, m);
      if (refusal) return refusal;
    }
    if (!isRequest(m)) {
      const n = m as JsonRpcNotification;
      const held = this.approvals.pending > 0 && n.method === 'notifications/cancelled' && this.approvals.cancel(session, n.params?.requestId);
      if (!held) entry.upstream.notify(session, n);
      return null;
    }
    if (channel === undefined) throw new Error('a request needs a response channel');
    if (session.resumed) {
      session.resumed = false;
      channel.related(RESUMED_NOTICE); // what did not move with the session, said once
    }
    if (policy) {
      const admitted = policy.admit(session);
      if (admitted instanceof Refusal) return admitted;
      channel = new PolicedChannel(channel, session, m.method, policy, admitted);
      const ask = policy.approvalFor?.(session, m);
      if (ask) {
        const policed = channel;
        this.approvals.hold(session, m, policed, ask, () => entry.upstream.request(session, m, policed));
        return null;
      }
    }
    entry.upstream.request(session, m, channel);
    return null;
  }

  /** Ends a session (DELETE, socket closed, idle): its subscriptions and pending calls go with it. */
  end(session: ClientSession): void {
    const entry = this.entries.get(session.id);
    if (!entry) return;
    this.entries.delete(session.id);
    session.closed = true;
    this.approvals.drop(session);
    entry.upstream.detach(session);
    this.options.pool.release(session, entry.upstream);
    for (const fn of entry.onEnd) fn();
    this.options.onSessionCountChange?.(this.entries.size);
  }

  /** Graceful shutdown, step 1: refuse new sessions, report not ready. */
  startDraining(): void {
    this.draining = true;
  }

  inFlight(): number {
    let n = 0;
    const seen = new Set<UpstreamSession>();
    for (const { upstream } of this.entries.values()) {
      if (seen.has(upstream)) continue;
      seen.add(upstream);
      n += upstream.inFlight;
    }
    return n;
  }

  async stop(): Promise<void> {
    clearInterval(this.reaper);
    for (const { session } of [...this.entries.values()]) this.end(session);
    await this.options.pool.stop();
  }

  private reapIdle(): void {
    const cutoff = Date.now() - this.options.sessionIdleTimeoutMs;
    for (const { session, upstream } of [...this.entries.values()]) {
      // Connection-bound sessions (WebSocket, legacy SSE) end when their connection closes.
      if (session.streamChannel === undefined && session.lastActivity < cutoff && upstream.inFlight === 0) {
        this.options.logger.info({ session: session.id }, 'session idle; ended');
        this.end(session);
      }
    }
  }
}

const SESSION_NOT_FOUND = Refusals.invalidRequest(404, 'session not found');
const RESUMED_NOTICE = JSON.stringify({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: {
    level: 'warning',
    logger: 'ome-mcp-agent',
    data: 'This session moved to another server replica: resource subscriptions and the log level did not move with it; subscribe and set the level again if you use them.',
  },
});
const ALREADY_INITIALIZED = Refusals.invalidRequest(400, 'session is already initialized');

/**
 * A request's response on its way back through the policy: the result rewritten for this
 * principal (lists filtered, capabilities reduced; serialized again only when something
 * changed), the limit slot released. One object per policed request.
 */
class PolicedChannel implements ResponseChannel {
  constructor(
    private readonly inner: ResponseChannel,
    private readonly session: ClientSession,
    private readonly method: string,
    private readonly policy: GatewayPolicy,
    private readonly release: () => void,
  ) {}

  respond(frame: string, message?: JsonRpcResponse): void {
    this.release();
    const result = (message as { result?: Record<string, unknown> } | undefined)?.result;
    if (result !== undefined) {
      const transformed = this.policy.transformResult(this.session, this.method, result);
      if (transformed !== result) {
        (message as { result: Record<string, unknown> }).result = transformed;
        frame = JSON.stringify(message);
      }
    }
    this.inner.respond(frame, message);
  }

  related(frame: string): void {
    this.inner.related(frame);
  }

  abandon(): void {
    this.release();
    this.inner.abandon();
  }
}
