/**
 * One HTTP exchange as the downstream transports see it, whichever front end carried it: Hono's
 * Context satisfies `Exchange` as it is, and the bare node:http front end for `POST /mcp` (the hot
 * path, see agent.ts) builds one from Node's request and response without a web Request.
 *
 * A handler answers with a `Reply`: a `JsonReply` — a JSON body the agent already holds as a
 * string (answers, errors, refusals; or no body: 202, 204), which the node:http front end writes
 * to the socket directly and Hono turns into a Response — or a web Response for an SSE stream.
 * The hot path never builds a web Response: the first one loads Node's fetch implementation
 * (undici, ~10 MB of RSS).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Hono } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The agent's Hono app: requests carry Node's request and response (`c.env`). */
export type AgentApp = Hono<{ Bindings: HttpBindings }>;

export interface Exchange {
  req: { header(name: string): string | undefined };
  env: { incoming: IncomingMessage; outgoing: ServerResponse };
}

const JSON_TYPE = 'application/json';

/** A JSON response body held as a string (a serialized JSON-RPC message); '' is no body. */
export class JsonReply {
  constructor(
    readonly body: string,
    readonly headers?: Record<string, string>,
    readonly status = 200,
  ) {}

  /** A status without a body (202 Accepted, 204 No Content). */
  static empty(status: number): JsonReply {
    return new JsonReply('', undefined, status);
  }
}

export type Reply = Response | JsonReply;

/** An Exchange over Node's request/response (header names are matched case-insensitively). */
export function nodeExchange(incoming: IncomingMessage, outgoing: ServerResponse): Exchange {
  const headers = incoming.headers;
  return {
    req: {
      header(name) {
        const v = headers[name] ?? headers[name.toLowerCase()];
        return v === undefined || typeof v === 'string' ? v : v.join(', ');
      },
    },
    env: { incoming, outgoing },
  };
}

export function toResponse(reply: Reply): Response {
  if (!(reply instanceof JsonReply)) return reply;
  if (reply.body === '') return new Response(null, { status: reply.status, ...(reply.headers ? { headers: reply.headers } : {}) });
  const headers = reply.headers ? { 'Content-Type': JSON_TYPE, ...reply.headers } : { 'Content-Type': JSON_TYPE };
  return new Response(reply.body, { status: reply.status, headers });
}

/** Writes a Reply to Node's response: a JsonReply in one write, a Response with its headers and body (streamed). */
export function writeReply(res: ServerResponse, reply: Reply): void {
  if (reply instanceof JsonReply) {
    res.statusCode = reply.status;
    if (reply.body !== '') res.setHeader('Content-Type', JSON_TYPE);
    res.setHeader('Content-Length', Buffer.byteLength(reply.body));
    if (reply.headers) for (const name in reply.headers) res.setHeader(name, reply.headers[name]!);
    res.end(reply.body);
    return;
  }
  res.statusCode = reply.status;
  reply.headers.forEach((value, name) => res.setHeader(name, value));
  const body = reply.body;
  if (body === null) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  const pump = (): void => {
    reader.read().then(
      ({ done, value }) => {
        if (done) {
          res.end();
          return;
        }
        if (!res.destroyed) res.write(value);
        pump();
      },
      () => res.destroy(),
    );
  };
  pump();
}

/** True for `path` and `path?query`. */
export function isPath(url: string | undefined, path: string): boolean {
  return url !== undefined && url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */);
}
