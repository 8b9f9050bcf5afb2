// One way to write a Secret the reconciler owns for a server (its state key, its catalog values):
// Opaque, the server's labels, owned by it, created or replaced whole (the previous version's
// resourceVersion guards against a concurrent writer).
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { commonLabels, ownedBy, type Owner, type ServerRef } from './names.js';

export async function writeOwnedSecret(
  client: KubeClient,
  ref: ServerRef,
  owner: Owner | undefined,
  name: string,
  data: Record<string, string>,
  existing: V1Secret | undefined,
  annotations?: Record<string, string>,
): Promise<V1Secret> {
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name, namespace: ref.namespace, labels: commonLabels(ref), ...(annotations ? { annotations } : {}), ...ownedBy(owner) },
    data,
  };
  return existing ? client.replace({ ...secret, metadata: { ...secret.metadata, resourceVersion: existing.metadata?.resourceVersion } }) : client.create(secret);
}
