// The per-server catalog Secret `<base>-catalog`: a copy of every Secret key the server's declared
// tools and resources read (header values, resource content), mounted into the agent container
// alone at CATALOG_MOUNT_PATH. A copy, not a projection of the source Secrets, so that adding or
// removing a declared object changes the Secret's content and the agent config (both reloaded in
// place) instead of the pod template (a roll). Values go from Secret to Secret only: never into
// the ConfigMap, a log, a status or an event. Read and written by name (get, create, update),
// like the state key; a server without secret items gets no Secret (one it had is emptied).
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from '../client.js';
import { baseName, fit, type Owner, type ServerRef } from '../names.js';
import { writeOwnedSecret } from '../owned-secret.js';
import type { Lookup } from '../resolve.js';
import type { SecretFile } from './items.js';

export const catalogSecretName = (ref: ServerRef) => fit(`${baseName(ref)}-catalog`, 253);

/** The copied values (base64, as Secret data holds them); a source key gone meanwhile is left out (its object reports it). */
async function copiedData(lookup: Lookup, files: SecretFile[]): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  for (const f of files) {
    const s = await lookup.secret(f.namespace, f.name);
    const value = s?.data?.[f.key] ?? (s?.stringData?.[f.key] !== undefined ? Buffer.from(s.stringData[f.key]!).toString('base64') : undefined);
    if (value !== undefined) data[f.file] = value;
  }
  return data;
}

const sameData = (a: Record<string, string> = {}, b: Record<string, string> = {}) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** The catalog Secret to mount, and its resourceVersion (which changes with every value it holds). */
export interface CatalogSecret {
  name: string;
  version: string;
}

/** Brings the catalog Secret to `files`; returns it when the agent should mount it. */
export async function ensureCatalogSecret(client: KubeClient, ref: ServerRef, owner: Owner | undefined, files: SecretFile[], lookup: Lookup): Promise<CatalogSecret | undefined> {
  const name = catalogSecretName(ref);
  const existing = await client.getOrUndefined<V1Secret>('Secret', name, ref.namespace);
  if (!files.length) {
    if (existing && Object.keys(existing.data ?? {}).length) await client.replace({ ...existing, data: {} });
    return undefined;
  }
  const data = await copiedData(lookup, files);
  if (existing && sameData(existing.data, data)) return { name, version: existing.metadata?.resourceVersion ?? '' };
  const written = await writeOwnedSecret(client, ref, owner, name, data, existing);
  return { name, version: written.metadata?.resourceVersion ?? '' };
}
