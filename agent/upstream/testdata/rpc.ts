// A minimal JSON-RPC client over an UpstreamTransport, for the bridge tests.
import type { UpstreamTransport } from '../transport.js';

export class RpcClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(readonly transport: UpstreamTransport) {
    transport.onmessage = (m) => {
      const msg = m as { id?: number; result?: unknown; error?: { message: string } };
      if (typeof msg.id !== 'number') return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.error) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    };
  }

  request(method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.transport.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** The first answer includes the server's start-up (a Node process), slow on a loaded CI machine. */
  async initialize(timeoutMs = 30_000): Promise<any> {
    const result = await this.request(
      'initialize',
      { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bridge-test', version: '1' } },
      timeoutMs,
    );
    this.transport.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return result;
  }

  async call(name: string, args: Record<string, unknown> = {}): Promise<string> {
    const r = await this.request('tools/call', { name, arguments: args });
    return r.content[0].text as string;
  }
}
