// The Gateway API (gateway.networking.k8s.io) as this project reads and writes it: ReferenceGrant
// (who may refer to an object of another namespace: an MCPGateway to a backend MCPServer) and
// HTTPRoute (an MCPGateway's exposure, api/v1beta1/exposure.ts). Only the fields used here; the
// schema is the Gateway API's own CRDs (installed by the cluster's owner, not by ome-mcp).
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/**
 * The kinds used here, each at the version read and written (ReferenceGrant at v1beta1, which every
 * Gateway API release since v0.6 serves) and with its plural (the API path).
 */
export const GATEWAY_API_KINDS = {
  ReferenceGrant: { version: 'v1beta1', plural: 'referencegrants' },
  HTTPRoute: { version: 'v1', plural: 'httproutes' },
  Gateway: { version: 'v1', plural: 'gateways' },
} as const;
export type GatewayAPIKind = keyof typeof GATEWAY_API_KINDS;
export const REFERENCE_GRANT_KIND = 'ReferenceGrant' satisfies GatewayAPIKind;
export const HTTPROUTE_KIND = 'HTTPRoute' satisfies GatewayAPIKind;
export const GATEWAY_KIND = 'Gateway' satisfies GatewayAPIKind;
export const REFERENCE_GRANT_VERSION = GATEWAY_API_KINDS.ReferenceGrant.version;
export const HTTPROUTE_VERSION = GATEWAY_API_KINDS.HTTPRoute.version;

/** One side of a ReferenceGrant: `from` names a namespace, `to` optionally a name. */
export interface ReferenceGrantFrom {
  group: string;
  kind: string;
  namespace: string;
}
export interface ReferenceGrantTo {
  group: string;
  kind: string;
  name?: string;
}
export interface ReferenceGrant {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string };
  spec?: { from?: ReferenceGrantFrom[]; to?: ReferenceGrantTo[] };
}

/**
 * The grant in `grants` (all of the target's namespace) that lets `from` refer to `to`: a `from`
 * entry with the group, kind and namespace, and a `to` entry with the group and kind whose name is
 * unset (every object of the kind) or the object's. The standard semantics.
 */
export function permittingGrant(grants: readonly ReferenceGrant[], from: ReferenceGrantFrom, to: Required<ReferenceGrantTo>): ReferenceGrant | undefined {
  return grants.find(
    (g) =>
      (g.spec?.from ?? []).some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) &&
      (g.spec?.to ?? []).some((t) => t.group === to.group && t.kind === to.kind && (!t.name || t.name === to.name)),
  );
}

/** A Gateway API condition (metav1.Condition). */
export interface GatewayCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/** What an HTTPRoute's status says per parent (Gateway) that looked at it. */
export interface RouteParentStatus {
  parentRef: { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string; port?: number };
  controllerName?: string;
  conditions?: GatewayCondition[];
}

/** An HTTPRoute as the reconciler writes it (spec) and reads it (status). */
export interface HTTPRouteObject {
  apiVersion: `${typeof GATEWAY_API_GROUP}/${typeof HTTPROUTE_VERSION}`;
  kind: typeof HTTPROUTE_KIND;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; generation?: number; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[] };
  spec: {
    parentRefs: RouteParentStatus['parentRef'][];
    hostnames?: string[];
    rules: { matches: { path: { type: 'PathPrefix'; value: string } }[]; backendRefs: { name: string; port: number }[] }[];
  };
  status?: { parents?: RouteParentStatus[] };
}

/** The part of a Gateway that says how its listeners serve (a listener with protocol HTTPS terminates TLS). */
export interface GatewayObject {
  metadata: { name?: string; namespace?: string };
  spec?: { listeners?: { name: string; protocol: string; hostname?: string; port: number }[] };
}
