import type { WSContext } from 'hono/ws';
import type { ResponseChannel } from '../mux/channels.js';
import type { ClientSession } from '../mux/client-session.js';
import type { Principal } from '../core/principal.js';
import { Refusal } from '../protocol/refusal.js';
import { asJsonRpcMessage, ErrorCode, errorResponse, isRequest } from '../protocol/jsonrpc.js';
import type { DownstreamContext } from './context.js';
import { JsonReply, toResponse, type AgentApp } from './exchange.js';
import type { WebSocketUpgrade } from './hono-node.js';
import { preamble } from './http-common.js';

/**
 * MCP over WebSocket: one connection is one session, each text frame one JSON-RPC message
 * (subprotocol `mcp`). Authentication happens on the upgrade request, before any frame.
 */
export function mountWebSocket(app: AgentApp, path: string, ctx: DownstreamContext, upgradeWebSocket: WebSocketUpgrade): void {
  app.get(
    path,
    async (c, next) => {
      const caller = await preamble(c, ctx);
      if (caller instanceof JsonReply) return toResponse(caller);
      c.set('caller' as never, caller as never);
      await next();
    },
    upgradeWebSocket((c) => {
      const caller = c.get('caller' as never) as Principal;
      let session: ClientSession | undefined;
      let initializing = false;
      let socket: WSContext | undefined;
      const send = (frame: string) => {
        if (socket?.readyState === 1) socket.send(frame);
      };
      const channel: ResponseChannel = { respond: send, related: send, abandon: () => {} };
      return {
        onOpen(_event, ws) {
          socket = ws;
        },
        onMessage(event, ws) {
          socket = ws;
          if (typeof event.data !== 'string' || event.data.length > ctx.maxBodyBytes) {
            send(JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, 'frames must be text and within the size limit')));
            return;
          }
          let value: unknown;
          try {
            value = JSON.parse(event.data);
          } catch {
            send(JSON.stringify(errorResponse(null, ErrorCode.ParseError, 'frame is not valid JSON')));
            return;
          }
          const message = asJsonRpcMessage(value);
          if (typeof message === 'string') {
            send(JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, `invalid JSON-RPC message: ${message}`)));
            return;
          }
          if (session === undefined) {
            if (!isRequest(message) || message.method !== 'initialize' || initializing) {
              if (isRequest(message)) send(JSON.stringify(errorResponse(message.id, ErrorCode.InvalidRequest, 'the first message must be initialize')));
              return;
            }
            initializing = true;
            ctx.gateway.initialize(caller, message, channel).then(
              (created) => {
                if (created instanceof Refusal) {
                  initializing = false;
                  send(created.frame(message.id));
                  return;
                }
                session = created.session;
                ctx.gateway.onSessionEnd(created.session, () => ws.close(1000, 'session ended'));
                send(created.frame);
              },
              (err: unknown) => {
                initializing = false;
                send(JSON.stringify(errorResponse(message.id, ErrorCode.InternalError, (err as Error).message)));
              },
            );
            return;
          }
          const refusal = ctx.gateway.dispatch(session, message, channel);
          if (refusal && isRequest(message)) send(refusal.frame(message.id));
        },
        onClose() {
          if (session) ctx.gateway.end(session);
          socket = undefined;
        },
      };
    }),
  );
}
