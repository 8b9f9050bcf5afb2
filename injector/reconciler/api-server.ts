// Where the API server really is: the `kubernetes` Service's ClusterIP and its EndpointSlice's
// addresses, so that a NetworkPolicy can open the API server to an agent that needs it without
// opening 443/6443 to every address (the server container shares the pod's policy).
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import type { Obj } from './kit/types.js';

export interface ApiServerAddresses {
  /** The `kubernetes` Service (10.96.0.1:443): what a policy sees before the Service is translated. */
  service: { address: string; port: number } | undefined;
  /** Its endpoints (the API servers themselves, e.g. <node>:6443): what it sees after. */
  endpoints: { address: string; port: number }[];
}

/** The addresses from the two objects (either may be missing); undefined when there are none. */
export function apiServerAddresses(service: V1Service | undefined, slice: V1EndpointSlice | undefined): ApiServerAddresses | undefined {
  const clusterIP = service?.spec?.clusterIP;
  const port = service?.spec?.ports?.find((p) => p.name === 'https')?.port ?? service?.spec?.ports?.[0]?.port;
  const slicePort = slice?.ports?.find((p) => p.name === 'https')?.port ?? slice?.ports?.[0]?.port;
  const endpoints = slicePort ? (slice?.endpoints ?? []).flatMap((e) => e.addresses.map((address) => ({ address, port: slicePort }))) : [];
  const svc = clusterIP && clusterIP !== 'None' && port ? { address: clusterIP, port } : undefined;
  return svc || endpoints.length ? { service: svc, endpoints } : undefined;
}

const CACHE_MS = 60_000;
const CACHE = new WeakMap<KubeClient, { at: number; value: Promise<ApiServerAddresses | undefined> }>();

/**
 * The API server's addresses for resolve.ts, cached for a minute per client (every restricted
 * server asks at each reconcile). Undefined when they cannot be read (RBAC of an older install):
 * the policy then falls back to the ports alone.
 */
export function readApiServer(client: KubeClient): Promise<ApiServerAddresses | undefined> {
  const cached = CACHE.get(client);
  if (cached && Date.now() - cached.at <= CACHE_MS) return cached.value;
  const value = Promise.all([
    client.getOrUndefined<V1Service & Obj>('Service', 'kubernetes', 'default'),
    client.getOrUndefined<V1EndpointSlice & Obj>('EndpointSlice', 'kubernetes', 'default'),
  ]).then(
    ([service, slice]) => apiServerAddresses(service, slice),
    () => undefined,
  );
  CACHE.set(client, { at: Date.now(), value });
  return value;
}
