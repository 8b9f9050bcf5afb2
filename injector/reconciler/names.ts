// Names and labels of the objects the reconciler owns, derived from the owning server.
import { createHash } from 'node:crypto';
import {
  LABEL_CLUSTER_MCPSERVER,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_MANAGED_BY_VALUE,
  LABEL_MCPGATEWAY,
  LABEL_MCPSERVER,
  LABEL_NAME,
} from '../../api/annotations.js';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, CLUSTER_MCPSERVER_KIND, MCPSERVER_KIND, type MCPServerSpec } from '../../api/v1beta1/mcpserver.js';
import { MCPGATEWAY_KIND } from '../../api/v1beta1/mcpgateway.js';

export type ServerKind = typeof MCPSERVER_KIND | typeof CLUSTER_MCPSERVER_KIND;
/** The kinds whose objects (ConfigMap, Deployment, Service, …) the reconciler builds: the servers and MCPGateway. */
export type OwnerKind = ServerKind | typeof MCPGATEWAY_KIND;

/** Per owner kind: the generated objects' name prefix, its owner label, and the app name label. */
const OWNER_KINDS: Record<OwnerKind, { prefix: string; label: string; app: string }> = {
  [MCPSERVER_KIND]: { prefix: 'mcp-', label: LABEL_MCPSERVER, app: 'mcp-server' },
  // cmcp-: the two server kinds never collide in one namespace
  [CLUSTER_MCPSERVER_KIND]: { prefix: 'cmcp-', label: LABEL_CLUSTER_MCPSERVER, app: 'mcp-server' },
  [MCPGATEWAY_KIND]: { prefix: 'mcpgw-', label: LABEL_MCPGATEWAY, app: 'mcp-gateway' },
};

/** Which server an object belongs to, and where its objects live. */
export interface ServerRef {
  kind: OwnerKind;
  name: string;
  /** Namespace of the generated objects: the MCPServer's, or the configured one for a ClusterMCPServer. */
  namespace: string;
}

/** Work-queue key: `MCPServer/<ns>/<name>`, `MCPGateway/<ns>/<name>` or `ClusterMCPServer//<name>`. */
export function keyOf(kind: OwnerKind, name: string, namespace?: string): string {
  return kind !== CLUSTER_MCPSERVER_KIND ? `${kind}/${namespace ?? ''}/${name}` : `${kind}//${name}`;
}

export function parseKey(key: string): { kind: OwnerKind; namespace: string; name: string } {
  const [kind, namespace, ...rest] = key.split('/');
  return { kind: kind as OwnerKind, namespace: namespace ?? '', name: rest.join('/') };
}

export function shortHash(s: string, len = 8): string {
  return createHash('sha256').update(s).digest('hex').slice(0, len);
}

/** Fits `s` into `max` characters, keeping it unique with a hash suffix when cut. */
export function fit(s: string, max: number): string {
  if (s.length <= max) return s;
  const h = shortHash(s);
  return `${s.slice(0, max - h.length - 1).replace(/[-.]+$/, '')}-${h}`;
}

/**
 * Base name of the generated objects: `mcp-<name>` (MCPServer), `cmcp-<name>` (ClusterMCPServer)
 * or `mcpgw-<name>` (MCPGateway). A Service name is a DNS-1035 label (≤ 63).
 */
export function baseName(ref: Pick<ServerRef, 'kind' | 'name'>): string {
  const { prefix } = OWNER_KINDS[ref.kind];
  // dots are legal in MCPServer names but not in Service names
  return fit(`${prefix}${ref.name.replace(/\./g, '-')}`, 63);
}

export const configMapName = (ref: ServerRef) => fit(`${baseName(ref)}-agent`, 253);
export const serviceAccountName = (ref: ServerRef) => baseName(ref);
export const roleName = (ref: ServerRef) => fit(`${baseName(ref)}-attach`, 253);

/** Label values are ≤ 63 characters. */
export const labelValue = (s: string) => fit(s, 63);

export function ownerLabel(ref: ServerRef): Record<string, string> {
  return { [OWNER_KINDS[ref.kind].label]: labelValue(ref.name) };
}

/** Immutable Deployment selector. */
export function selectorLabels(ref: ServerRef): Record<string, string> {
  return { [LABEL_NAME]: OWNER_KINDS[ref.kind].app, [LABEL_INSTANCE]: labelValue(ref.name), ...ownerLabel(ref) };
}

export function commonLabels(ref: ServerRef): Record<string, string> {
  return { ...selectorLabels(ref), [LABEL_COMPONENT]: OWNER_KINDS[ref.kind].app, [LABEL_MANAGED_BY]: LABEL_MANAGED_BY_VALUE };
}

/** The owner kind whose label `labels` carry (one of our generated objects or their pods). */
export function ownerKindOf(labels: Record<string, string>): OwnerKind | undefined {
  return (Object.keys(OWNER_KINDS) as OwnerKind[]).find((k) => labels[OWNER_KINDS[k].label] !== undefined);
}

/** Where clients reach the server in the cluster: its Service, https when the agent serves TLS. */
export function serviceURL(ref: ServerRef, spec: Pick<MCPServerSpec, 'port' | 'tls'>, clusterDomain = 'cluster.local'): string {
  return `${spec.tls ? 'https' : 'http'}://${baseName(ref)}.${ref.namespace}.svc.${clusterDomain}:${spec.port ?? 8080}/mcp`;
}

/** The object (MCPServer, ClusterMCPServer, MCPGateway) that owns the generated ones. */
export interface Owner {
  kind: string;
  name: string;
  uid: string;
}

/** The metadata part that makes an object the server's (deleted with it, watched as its own). */
export function ownedBy(owner: Owner | undefined): { ownerReferences?: V1OwnerReference[] } {
  return owner ? { ownerReferences: [{ apiVersion: API_VERSION, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }] } : {};
}
