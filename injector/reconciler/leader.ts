// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: acquire when the
// lease is free or expired, renew every retryPeriod, give up leadership when renewals fail for
// renewDeadline (before anyone else may take the lease after leaseDuration), release on stop.
import { isConflict, isNotFound, type KubeClient } from './client.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private observed: { holder?: string | null; renewTime?: string; seenAt: number } | undefined;
  private readonly leaseDuration: number;
  private readonly renewDeadline: number;
  private readonly retryPeriod: number;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectionOptions) {
    this.leaseDuration = o.leaseDurationMs ?? 15_000;
    this.renewDeadline = o.renewDeadlineMs ?? 10_000;
    this.retryPeriod = o.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop = this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.loop = this.tick();
    }, this.retryPeriod);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.o.log?.('leader election: lease request failed', { err: (e as Error).message });
    }
    if (this.stopped) return;
    const now = Date.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.o.log?.('leader election: leading', { identity: this.o.identity });
        this.o.onStartedLeading();
      }
    } else if (this.leading && now - this.lastRenew > this.renewDeadline) {
      this.leading = false;
      this.o.log?.('leader election: lost the lease', { identity: this.o.identity });
      this.o.onStoppedLeading();
    }
    this.schedule();
  }

  private lease(spec: Lease['spec'], resourceVersion?: string): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.o.name, namespace: this.o.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec,
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = new Date();
    const leaseSeconds = Math.ceil(this.leaseDuration / 1000);
    let current: Lease | undefined;
    try {
      current = await client.get<Lease & { kind: string }>('Lease', name, namespace);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!current) {
      try {
        await client.create(this.lease({ holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 }));
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    // Expiry is judged on our own clock: when did we last see the record change?
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== spec.renewTime) {
      this.observed = { holder, renewTime: spec.renewTime, seenAt: Date.now() };
    }
    const expired = Date.now() > this.observed.seenAt + (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (holder && holder !== identity && !expired) return false;
    const takeover = holder !== identity;
    try {
      await client.replace(
        this.lease(
          {
            holderIdentity: identity,
            leaseDurationSeconds: leaseSeconds,
            acquireTime: takeover ? microTime(now) : (spec.acquireTime ?? microTime(now)),
            renewTime: microTime(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover && holder ? 1 : 0),
          },
          current.metadata.resourceVersion,
        ),
      );
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /** Stops campaigning; a leader releases the lease so a successor need not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop?.catch(() => {});
    if (this.leading) {
      this.leading = false;
      try {
        const cur = await this.o.client.get<Lease & { kind: string }>('Lease', this.o.name, this.o.namespace);
        if (cur.spec?.holderIdentity === this.o.identity) {
          await this.o.client.replace(this.lease({ ...cur.spec, holderIdentity: null, leaseDurationSeconds: 1 }, cur.metadata.resourceVersion));
        }
      } catch {
        /* best effort */
      }
      this.o.onStoppedLeading();
    }
  }
}
