import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

/** Requests Node's parser refuses, by error code; anything else it refuses is a 400. */
const STATUS_LINES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};
/** How long a refused client may go on sending before its connection is cut. */
const DRAIN_MS = 5000;

/**
 * Answers requests that never reach the app (headers over Node's 16 KiB limit, bad framing)
 * with a status line and a graceful close. Node's own handler writes the status and destroys
 * the socket at once: a client still sending its (large) headers then gets a TCP reset and
 * never reads the 431. Here the socket is half-closed and the rest of the request drained.
 */
export function answerClientErrors(server: Server | HttpsServer): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writableEnded) return; // answered already; the parser reports each further chunk
    if (err.code === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const status = STATUS_LINES[err.code ?? ''] ?? '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.resume();
    setTimeout(() => socket.destroy(), DRAIN_MS).unref();
  });
}

/** A response already on the wire (keep-alive) must not be followed by a status line. */
function responseStarted(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
}
