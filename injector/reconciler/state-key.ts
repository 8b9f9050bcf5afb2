// The key an MCPServer's replicas share (OME_MCP_STATE_KEY): it seals 2025 session ids, so any
// replica resumes any session, and signs 2026-07-28 requestState. One Secret per server, made
// here when missing and rotated after ROTATE_AFTER_MS: the new key seals, the previous one still
// opens ids sealed before (the agent tries both). The Secret is read and written by name only —
// the reconciler never lists or watches Secrets — and goes with its server (owner reference;
// a ClusterMCPServer's is deleted with its other objects).
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { fit, baseName, type Owner, type ServerRef } from './names.js';
import { writeOwnedSecret } from './owned-secret.js';

export const ROTATE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;
/** Secret annotation: when the key was made or last rotated (ISO time). */
export const ANNOTATION_STATE_KEY_ROTATED = 'mcp.ome.io/state-key-rotated-at';
export const STATE_KEY = 'key';
export const STATE_KEY_PREVIOUS = 'previous';

export const stateKeySecretName = (ref: ServerRef) => fit(`${baseName(ref)}-state`, 253);

/** What the pod template needs: the Secret's name, and the rotation time (a rotation rolls the pods, which read the key at start). */
export interface StateKeyRef {
  secretName: string;
  rotatedAt: string;
  hasPrevious: boolean;
}

const newKey = () => randomBytes(32).toString('base64');
const b64 = (s: string) => Buffer.from(s).toString('base64');

export async function ensureStateKey(client: KubeClient, ref: ServerRef, owner: Owner | undefined, now = new Date()): Promise<StateKeyRef> {
  const name = stateKeySecretName(ref);
  const existing = await client.getOrUndefined<V1Secret>('Secret', name, ref.namespace);
  const rotatedAt = existing?.metadata?.annotations?.[ANNOTATION_STATE_KEY_ROTATED];
  const current = existing?.data?.[STATE_KEY];
  if (existing && current && rotatedAt && now.getTime() - Date.parse(rotatedAt) < ROTATE_AFTER_MS) {
    return { secretName: name, rotatedAt, hasPrevious: existing.data?.[STATE_KEY_PREVIOUS] !== undefined };
  }
  const stamp = now.toISOString();
  const data: Record<string, string> = { [STATE_KEY]: b64(newKey()), ...(current ? { [STATE_KEY_PREVIOUS]: current } : {}) };
  await writeOwnedSecret(client, ref, owner, name, data, existing, { [ANNOTATION_STATE_KEY_ROTATED]: stamp });
  return { secretName: name, rotatedAt: stamp, hasPrevious: current !== undefined };
}
