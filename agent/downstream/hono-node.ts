// Hono on the agent's node:http server, loaded on first use. `POST /mcp` and the ops routes are
// served by bare node:http; Hono serves the rest (GET/DELETE /mcp, legacy SSE, WebSocket, RFC
// 9728 metadata). Its Node adapter replaces the global Request/Response at import, which loads
// Node's fetch implementation (undici: ~35 ms and 8–14 MB of RSS), and `ws` adds more: an agent
// whose clients only POST never pays for either. The adapter itself is used as it is (its
// request listener, its WebSocket upgrade handler), only later.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import type { WSEvents } from 'hono/ws';
import type { Logger } from 'pino';
import type { AgentApp } from './exchange.js';

/** Hono's `upgradeWebSocket` in the form the WebSocket transport uses. */
export type WebSocketUpgrade = (createEvents: (c: Context) => WSEvents | Promise<WSEvents>) => MiddlewareHandler;

type NodeServerModule = typeof import('@hono/node-server');

export interface LazyHono {
  /** The listener for every request the node:http front ends did not take. */
  listener(req: IncomingMessage, res: ServerResponse): void;
  /** For `mountWebSocket`: resolved on the first upgrade, when the adapter is loaded. */
  upgradeWebSocket: WebSocketUpgrade;
  /** Routes the server's WebSocket upgrades through the adapter (loaded, with ws, on the first one). */
  attach(server: Server | HttpsServer): void;
  close(): void;
}

export function lazyHono(app: AgentApp, options: { hostname: string; maxPayload: number; logger: Logger }): LazyHono {
  let adapter: Promise<NodeServerModule> | undefined;
  let loaded: NodeServerModule | undefined;
  const load = () => (adapter ??= import('@hono/node-server').then((m) => (loaded = m)));

  let listener: Promise<RequestListener> | undefined;
  const requests = () => (listener ??= load().then((m) => m.getRequestListener(app.fetch, { hostname: options.hostname })));

  // The adapter's upgrade handler, taken from the server it would have built (a stand-in that
  // only collects its listeners): that handler and `upgradeWebSocket` share private state.
  let upgrades: Promise<{ upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void; close: () => void }> | undefined;
  const upgrader = () =>
    (upgrades ??= Promise.all([load(), import('ws')]).then(([m, { WebSocketServer }]) => {
      const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
      const standIn = new EventEmitter();
      m.createAdaptorServer({ fetch: app.fetch, hostname: options.hostname, websocket: { server: wss }, createServer: (() => standIn) as never });
      const upgrade = standIn.listeners('upgrade')[0] as (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
      return { upgrade, close: () => standIn.emit('close') };
    }));

  const failed = (err: Error, destroy: () => void) => {
    options.logger.error({ err: err.message }, 'cannot load the HTTP adapter');
    destroy();
  };

  return {
    listener(req, res) {
      requests().then(
        (l) => l(req, res),
        (err: Error) => failed(err, () => res.destroy()),
      );
    },
    upgradeWebSocket: (createEvents) => {
      let middleware: MiddlewareHandler | undefined;
      // Reached only through the adapter, so it is loaded by then.
      return (c, next) => (middleware ??= loaded!.upgradeWebSocket(createEvents))(c, next);
    },
    attach(server) {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on('error', () => {}); // a client gone while the adapter loads
        upgrader().then(
          (u) => u.upgrade(req, socket, head),
          (err: Error) => failed(err, () => socket.destroy()),
        );
      });
    },
    close() {
      void upgrades?.then((u) => u.close());
    },
  };
}
