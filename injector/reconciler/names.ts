// Names and labels of the objects the reconciler owns, derived from the owning server.
import { createHash } from 'node:crypto';
import {
  LABEL_CLUSTER_MCPSERVER,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_MANAGED_BY_VALUE,
  LABEL_MCPSERVER,
  LABEL_NAME,
} from '../../api/annotations.js';
import { CLUSTER_MCPSERVER_KIND, MCPSERVER_KIND, type MCPServerSpec } from '../../api/v1beta1/mcpserver.js';

export type ServerKind = typeof MCPSERVER_KIND | typeof CLUSTER_MCPSERVER_KIND;

/** Which server an object belongs to, and where its objects live. */
export interface ServerRef {
  kind: ServerKind;
  name: string;
  /** Namespace of the generated objects: the MCPServer's, or the configured one for a ClusterMCPServer. */
  namespace: string;
}

/** Work-queue key: `MCPServer/<ns>/<name>` or `ClusterMCPServer//<name>`. */
export function keyOf(kind: ServerKind, name: string, namespace?: string): string {
  return kind === MCPSERVER_KIND ? `${kind}/${namespace ?? ''}/${name}` : `${kind}//${name}`;
}

export function parseKey(key: string): { kind: ServerKind; namespace: string; name: string } {
  const [kind, namespace, ...rest] = key.split('/');
  return { kind: kind as ServerKind, namespace: namespace ?? '', name: rest.join('/') };
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
 * Base name of the generated objects: `mcp-<name>` (MCPServer) or `cmcp-<name>` (ClusterMCPServer,
 * so the two kinds never collide in one namespace). A Service name is a DNS-1035 label (≤ 63).
 */
export function baseName(ref: Pick<ServerRef, 'kind' | 'name'>): string {
  const prefix = ref.kind === MCPSERVER_KIND ? 'mcp-' : 'cmcp-';
  // dots are legal in MCPServer names but not in Service names
  return fit(`${prefix}${ref.name.replace(/\./g, '-')}`, 63);
}

export const configMapName = (ref: ServerRef) => fit(`${baseName(ref)}-agent`, 253);
export const serviceAccountName = (ref: ServerRef) => baseName(ref);
export const roleName = (ref: ServerRef) => fit(`${baseName(ref)}-attach`, 253);

/** Label values are ≤ 63 characters. */
export const labelValue = (s: string) => fit(s, 63);

export function ownerLabel(ref: ServerRef): Record<string, string> {
  return ref.kind === MCPSERVER_KIND ? { [LABEL_MCPSERVER]: labelValue(ref.name) } : { [LABEL_CLUSTER_MCPSERVER]: labelValue(ref.name) };
}

/** Immutable Deployment selector. */
export function selectorLabels(ref: ServerRef): Record<string, string> {
  return { [LABEL_NAME]: 'mcp-server', [LABEL_INSTANCE]: labelValue(ref.name), ...ownerLabel(ref) };
}

export function commonLabels(ref: ServerRef): Record<string, string> {
  return { ...selectorLabels(ref), [LABEL_COMPONENT]: 'mcp-server', [LABEL_MANAGED_BY]: LABEL_MANAGED_BY_VALUE };
}

/** Where clients reach the server in the cluster: its Service, https when the agent serves TLS. */
export function serviceURL(ref: ServerRef, spec: Pick<MCPServerSpec, 'port' | 'tls'>, clusterDomain = 'cluster.local'): string {
  return `${spec.tls ? 'https' : 'http'}://${baseName(ref)}.${ref.namespace}.svc.${clusterDomain}:${spec.port ?? 8080}/mcp`;
}
