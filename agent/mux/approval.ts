// Holds calls that need a person's approval. The question goes to the client as an
// `elicitation/create` request related to the call — an event on the call's stream for 2025
// clients (streamable HTTP, legacy SSE, WebSocket), an input-required result for 2026-07-28 ones
// (the modern transport turns related requests into inputRequests) — and the client's answer comes
// back through Gateway.dispatch like any response to a server request. Only an accept forwards the
// call; everything else answers it with a tool error that says what happened, so the model and the
// person both see why nothing ran.
import { randomUUID } from 'node:crypto';
import type { ApprovalAsk, ApprovalOutcome } from '../core/approval.js';
import type { JsonRpcId, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { ResponseChannel } from './channels.js';
import type { ClientSession } from './client-session.js';

/**
 * Ids of the agent's own questions. Server requests pass to clients with the server's own ids, so
 * ours are unguessable: a server cannot send a question of its own under one and have the
 * person's answer approve a held call.
 */
const ID_PREFIX = 'ome-approval-';
const MAX_ARGUMENTS_CHARS = 2000;

interface Held {
  session: ClientSession;
  request: JsonRpcRequest;
  channel: ResponseChannel;
  ask: ApprovalAsk;
  forward: () => void;
  timer: NodeJS.Timeout;
}

export type ApprovalListener = (session: ClientSession, ask: ApprovalAsk, outcome: ApprovalOutcome) => void;

export class Approvals {
  private readonly held = new Map<string, Held>();

  constructor(private readonly onOutcome: ApprovalListener) {}

  get pending(): number {
    return this.held.size;
  }

  /** Asks the person behind `session`; `forward` runs on accept, else the call is answered on `channel` with a tool error. */
  hold(session: ClientSession, request: JsonRpcRequest, channel: ResponseChannel, ask: ApprovalAsk, forward: () => void): void {
    if (session.capabilities.elicitation === undefined) {
      this.onOutcome(session, ask, 'unsupported');
      channel.respond(
        toolError(
          request.id,
          `The tool "${ask.tool}" needs a person's approval (${ask.reason}), and this client cannot ask for it: it did not declare the elicitation capability. Use a client that supports elicitation.`,
        ),
      );
      return;
    }
    const id = `${ID_PREFIX}${randomUUID()}`;
    const timer = setTimeout(() => this.settle(id, 'timeout'), ask.timeoutMs);
    timer.unref();
    this.held.set(id, { session, request, channel, ask, forward, timer });
    channel.related(JSON.stringify({ jsonrpc: '2.0', id, method: 'elicitation/create', params: question(ask) }));
  }

  /** A client's response: true when it answered one of the agent's questions (then it goes nowhere else). */
  answer(session: ClientSession, message: JsonRpcResponse): boolean {
    if (typeof message.id !== 'string' || !message.id.startsWith(ID_PREFIX)) return false;
    const held = this.held.get(message.id);
    if (held === undefined || held.session !== session) return true; // late, or not this session's: dropped
    this.settle(message.id, outcomeOf(message));
    return true;
  }

  /** `notifications/cancelled` for a held call: true when it was one (the call ends unanswered, as cancellation asks). */
  cancel(session: ClientSession, requestId: unknown): boolean {
    for (const [id, h] of this.held) {
      if (h.session === session && h.request.id === requestId) {
        this.settle(id, 'abandoned');
        return true;
      }
    }
    return false;
  }

  /** The session ended: its held calls end with it. */
  drop(session: ClientSession): void {
    for (const [id, h] of this.held) if (h.session === session) this.settle(id, 'abandoned');
  }

  private settle(id: string, outcome: ApprovalOutcome): void {
    const h = this.held.get(id);
    if (h === undefined) return;
    this.held.delete(id);
    clearTimeout(h.timer);
    this.onOutcome(h.session, h.ask, outcome);
    if (outcome === 'accept') h.forward();
    else if (outcome === 'abandoned') h.channel.abandon();
    else h.channel.respond(toolError(h.request.id, refusalText(h.ask, outcome)));
  }
}

/** The question, as a form with one yes/no field (any elicitation-capable client can render it). */
function question(ask: ApprovalAsk): Record<string, unknown> {
  let args = ask.arguments === undefined ? '' : JSON.stringify(ask.arguments);
  if (args.length > MAX_ARGUMENTS_CHARS) args = `${args.slice(0, MAX_ARGUMENTS_CHARS)}… (${args.length} characters in all)`;
  return {
    mode: 'form',
    message: `Allow the tool "${ask.tool}" to run? It needs your approval: ${ask.reason}.${args ? `\nArguments: ${args}` : ''}`,
    requestedSchema: {
      type: 'object',
      properties: { approve: { type: 'boolean', title: `Run ${ask.tool}`, description: 'Yes runs the tool; no refuses the call.', default: false } },
      required: ['approve'],
    },
  };
}

function outcomeOf(message: JsonRpcResponse): ApprovalOutcome {
  const result = (message as { result?: { action?: unknown; content?: { approve?: unknown } } }).result;
  if (result === undefined) return 'cancel'; // an error: the client could not ask
  if (result.action === 'accept') return result.content?.approve === true ? 'accept' : 'decline';
  return result.action === 'decline' ? 'decline' : 'cancel';
}

function refusalText(ask: ApprovalAsk, outcome: ApprovalOutcome): string {
  const what =
    outcome === 'decline'
      ? 'the person declined'
      : outcome === 'timeout'
        ? `no answer came within ${Math.round(ask.timeoutMs / 1000)} s`
        : 'the person cancelled the question (or the client could not ask it)';
  return `The tool "${ask.tool}" was not run: it needs approval and ${what}.`;
}

function toolError(id: JsonRpcId, text: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], isError: true } });
}
