// Kubernetes Events about the objects reconcilers serve. A persistent problem is reported once
// (until its message changes or it is resolved), not on every retry.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from '../client.js';
import type { Logger, Obj } from './types.js';

export interface EventRecorderOptions {
  client: KubeClient;
  /** `source.component` and `reportingComponent`. */
  component: string;
  /** `reportingInstance`. */
  identity: string;
  log: Logger;
}

export class EventRecorder {
  /** Last warning message per key. */
  private readonly outstanding = new Map<string, string>();

  constructor(private readonly o: EventRecorderOptions) {}

  /** A Warning event, unless the same message was the key's last warning; true when recorded. */
  async warnOnce(key: string, obj: Obj, reason: string, message: string): Promise<boolean> {
    if (this.outstanding.get(key) === message) return false;
    this.outstanding.set(key, message);
    await this.record(obj, 'Warning', reason, message);
    return true;
  }

  /** A Normal event when the key had an outstanding warning. */
  async resolved(key: string, obj: Obj, reason: string, message: string): Promise<void> {
    if (!this.outstanding.delete(key)) return;
    await this.record(obj, 'Normal', reason, message);
  }

  forget(key: string): void {
    this.outstanding.delete(key);
  }

  async record(obj: Obj, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await this.o.client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${obj.metadata.name}.`, namespace: obj.metadata.namespace || 'default' },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason,
        message: message.slice(0, 1024),
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.o.component },
        reportingComponent: this.o.component,
        reportingInstance: this.o.identity,
      } as KubernetesObject);
    } catch (e) {
      this.o.log.debug({ err: (e as Error).message }, 'event not recorded');
    }
  }
}
