// A 2025 session's requests go to the replica that holds it while that replica lives: its
// subscriptions, log level, in-flight calls (a cancellation must reach them) and GET stream are
// there. A request for a sealed session this replica does not hold is passed to the owner named in
// the session id; only when the owner cannot be reached does the session move here (resumed from
// its id). One hop at most: a passed request carries FORWARDED_HEADER and is never passed again.
import { connect } from 'node:net';
import type { Exchange } from './exchange.js';

export const FORWARDED_HEADER = 'x-ome-mcp-forwarded';
/**
 * The owner's answer to a passed request while it cannot serve (its server is gone or restarting,
 * or it is shutting down): the session moves to the replica that passed it.
 */
export const NOT_SERVING_HEADER = 'x-ome-mcp-not-serving';
/** The request headers that matter to the owner (the credential is re-checked there). */
const PASSED = ['authorization', 'accept', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'x-api-key'];
const CONNECT_TIMEOUT_MS = 1000;

/** Is something listening at the owner? A deleted pod's address swallows packets, so this is bounded. */
function reachable(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The owner's response to this request (streamed through, SSE included), or undefined when the
 * owner is unreachable and the session should move here.
 */
export async function forwardToOwner(c: Exchange, owner: string, path: string, method: string, body?: string): Promise<Response | undefined> {
  const url = new URL(path, owner);
  if (!(await reachable(url))) return undefined;
  const headers: Record<string, string> = { [FORWARDED_HEADER]: '1' };
  for (const name of PASSED) {
    const v = c.req.header(name);
    if (v !== undefined) headers[name] = v;
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  } catch {
    return undefined;
  }
  if (res.status === 503 && res.headers.get(NOT_SERVING_HEADER) !== null) {
    await res.body?.cancel();
    return undefined;
  }
  const out = new Headers();
  for (const [k, v] of res.headers) if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out.set(k, v);
  return new Response(res.body, { status: res.status, headers: out });
}
