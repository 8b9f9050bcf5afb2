import type { ClientSession } from './client-session.js';
import type { UpstreamPool } from './gateway.js';
import { Refusal, Refusals } from '../protocol/refusal.js';
import type { UpstreamSession } from './upstream-session.js';

/** Default mode: one server, initialized once, every client session multiplexed onto it. */
export class SharedPool implements UpstreamPool {
  constructor(readonly upstream: UpstreamSession) {}

  acquire(): Promise<UpstreamSession> {
    return Promise.resolve(this.upstream);
  }
  readyUpstream(): UpstreamSession | undefined {
    return this.upstream.state === 'ready' ? this.upstream : undefined;
  }
  release(): void {}
  get ready(): boolean {
    return this.upstream.state === 'ready';
  }
  get detail(): string {
    return `${this.upstream.state}: ${this.upstream.stateDetail}`;
  }
  stop(): Promise<void> {
    return this.upstream.stop();
  }
}

/**
 * `--session-mode per-session`: a server process per client session, for servers that keep
 * per-client state. Bounded: beyond `maxProcesses` a new session is refused with 503 rather
 * than forking without limit. Idle sessions are reaped by the gateway, which releases them here.
 */
export class PerSessionPool implements UpstreamPool {
  private readonly live = new Map<ClientSession, UpstreamSession>();
  private starting = 0;

  constructor(
    /** The session's own upstream, or why it cannot have one (e.g. its identity was refused). */
    private readonly create: (session: ClientSession) => UpstreamSession | Refusal | Promise<UpstreamSession | Refusal>,
    private readonly maxProcesses: number,
  ) {}

  async acquire(session: ClientSession): Promise<UpstreamSession | Refusal> {
    if (this.live.size + this.starting >= this.maxProcesses) return Refusals.overloaded(`all ${this.maxProcesses} server processes are in use`, 5);
    this.starting++;
    try {
      const upstream = await this.create(session);
      if (upstream instanceof Refusal) return upstream;
      await upstream.start();
      this.live.set(session, upstream);
      return upstream;
    } finally {
      this.starting--;
    }
  }

  release(session: ClientSession, upstream: UpstreamSession): void {
    this.live.delete(session);
    void upstream.stop();
  }

  /** Each session brings its own server up; the agent itself is always ready for new ones. */
  get ready(): boolean {
    return true;
  }
  get detail(): string {
    return `per-session: ${this.live.size}/${this.maxProcesses} server processes`;
  }
  async stop(): Promise<void> {
    await Promise.all([...this.live.values()].map((u) => u.stop()));
    this.live.clear();
  }
}
