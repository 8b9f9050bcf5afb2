// The ops endpoints: /healthz, /readyz, /metrics. For local use they share the MCP port; with
// --ops-port they get a plain-HTTP listener of their own (what the kubelet probes and Prometheus
// scrape) and the MCP port answers 404 for them: metrics and health never reach MCP clients, and
// probes keep working whatever TLS or authentication the MCP port asks for.
// Served on bare node:http, like `POST /mcp`: a probe every few seconds must not be what loads
// the web Request/Response machinery (and its ~10 MB) into an agent that otherwise never needs it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { answerClientErrors } from '../downstream/client-errors.js';
import { isPath } from '../downstream/exchange.js';

export interface Readiness {
  ready: boolean;
  /** What /readyz shows: upstream state, sessions, … */
  body: Record<string, unknown>;
}

/** Answers one of the three routes and returns true, or returns false for any other request. */
export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export function opsHandler(readiness: () => Readiness, registry: Registry): OpsHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (isPath(req.url, '/healthz')) send(req, res, 200, 'application/json', '{"status":"ok"}');
    else if (isPath(req.url, '/readyz')) {
      const r = readiness();
      send(req, res, r.ready ? 200 : 503, 'application/json', JSON.stringify(r.body));
    } else if (isPath(req.url, '/metrics')) {
      registry.metrics().then(
        (text) => send(req, res, 200, registry.contentType, text),
        (err: Error) => send(req, res, 500, 'text/plain', `metrics failed: ${err.message}\n`),
      );
    } else return false;
    return true;
  };
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export interface OpsServer {
  port: number;
  close(): void;
}

/** Serves the ops routes on host:port (plain HTTP); resolves once listening, rejects when the port is taken. */
export async function startOpsServer(handler: OpsHandler, host: string, port: number): Promise<OpsServer> {
  const server = createServer((req, res) => {
    if (handler(req, res)) return;
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('404 Not Found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on the ops port ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  answerClientErrors(server);
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
