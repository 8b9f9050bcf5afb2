// Exposure of an owner's Service outside the cluster (api/v1beta1/exposure.ts): the Ingress or
// HTTPRoute to build (owned like the other generated objects: owner reference, labels, applied and
// pruned with them), and what their status says — an Ingress's load-balancer addresses, an
// HTTPRoute's per-parent Accepted and ResolvedRefs — as the Exposed condition and the public URL.
// Pure; unit-tested in exposure.test.ts.
import type { V1Ingress } from '@kubernetes/client-node';
import {
  GATEWAY_API_GROUP,
  GATEWAY_KIND,
  HTTPROUTE_KIND,
  HTTPROUTE_VERSION,
  type GatewayObject,
  type HTTPRouteObject,
  type RouteParentStatus,
} from '../../api/gateway-api.js';
import type { HTTPRouteExposure, IngressExposure } from '../../api/v1beta1/exposure.js';
import { meta } from './desired.js';
import { baseName, type Owner, type ServerRef } from './names.js';
import type { CondStatus } from './status.js';

/** The kinds exposure adds to an owner's objects (HTTPRoute only where the Gateway API is served). */
export const EXPOSURE_KINDS = ['Ingress', HTTPROUTE_KIND] as const;

export interface ExposureInput {
  ref: ServerRef;
  owner?: Owner;
  /** The Service's port. */
  port: number;
  ingress?: IngressExposure;
  httpRoute?: HTTPRouteExposure;
}

export function buildIngress(input: ExposureInput): V1Ingress | undefined {
  const e = input.ingress;
  if (!e) return undefined;
  const m = meta(input, baseName(input.ref), e.annotations ?? {});
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: m,
    spec: {
      ...(e.className ? { ingressClassName: e.className } : {}),
      ...(e.tls ? { tls: [{ hosts: [e.host], secretName: e.tls.secretName }] } : {}),
      rules: [{ host: e.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: baseName(input.ref), port: { number: input.port } } } }] } }],
    },
  };
}

export function buildHTTPRoute(input: ExposureInput): HTTPRouteObject | undefined {
  const e = input.httpRoute;
  if (!e) return undefined;
  return {
    apiVersion: `${GATEWAY_API_GROUP}/${HTTPROUTE_VERSION}`,
    kind: HTTPROUTE_KIND,
    metadata: meta(input, baseName(input.ref)),
    spec: {
      parentRefs: e.parentRefs.map((p) => ({ ...p })),
      ...(e.hostnames?.length ? { hostnames: [...e.hostnames] } : {}),
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: baseName(input.ref), port: input.port }] }],
    },
  };
}

/** The Exposed condition and, when a client can be told one, the public URL. */
export interface ExposureView {
  status: CondStatus;
  reason: string;
  message: string;
  url?: string;
}

const publicURL = (scheme: string, host: string | undefined) => (host && !host.startsWith('*.') ? `${scheme}://${host}/mcp` : undefined);

/** An Ingress is exposed once its controller gave it an address (status.loadBalancer.ingress). */
export function viewIngress(e: IngressExposure, live: V1Ingress | undefined): ExposureView {
  const url = publicURL(e.tls ? 'https' : 'http', e.host);
  const name = live?.metadata?.name ?? 'the Ingress';
  if (!live) return { status: 'Unknown', reason: 'Pending', message: `${name} applied; not observed yet`, url };
  const addresses = (live.status?.loadBalancer?.ingress ?? []).map((a) => a.hostname ?? a.ip).filter((a): a is string => !!a);
  if (!addresses.length) {
    const cls = e.className ? ` of class ${e.className}` : '';
    return { status: 'False', reason: 'NoAddress', message: `Ingress ${name} has no load-balancer address yet: no ingress controller${cls} has admitted it`, url };
  }
  return { status: 'True', reason: 'AddressAssigned', message: `Ingress ${name} at ${addresses.join(', ')}${e.tls ? ` (TLS from Secret ${e.tls.secretName})` : ''}`, url };
}

type ParentRef = RouteParentStatus['parentRef'];
const parentName = (p: ParentRef, ns: string) => `${p.kind ?? GATEWAY_KIND} ${p.namespace ?? ns}/${p.name}${p.sectionName ? `:${p.sectionName}` : ''}`;
const sameParent = (a: ParentRef, b: ParentRef, ns: string) =>
  (a.group ?? GATEWAY_API_GROUP) === (b.group ?? GATEWAY_API_GROUP) &&
  (a.kind ?? GATEWAY_KIND) === (b.kind ?? GATEWAY_KIND) &&
  (a.namespace ?? ns) === (b.namespace ?? ns) &&
  a.name === b.name &&
  (a.sectionName ?? '') === (b.sectionName ?? '') &&
  (a.port ?? 0) === (b.port ?? 0);

/**
 * The scheme clients use through a parent Gateway: https when the listener the route attaches to
 * (its sectionName, else any) has protocol HTTPS; undefined when the Gateway is unknown.
 */
export function listenerScheme(gateway: GatewayObject | undefined, parent: ParentRef): 'https' | 'http' | undefined {
  const listeners = (gateway?.spec?.listeners ?? []).filter((l) => !parent.sectionName || l.name === parent.sectionName);
  if (!gateway || !listeners.length) return undefined;
  return listeners.some((l) => l.protocol === 'HTTPS') ? 'https' : 'http';
}

export interface HTTPRouteInputs {
  /** Is the HTTPRoute API served at all? */
  served: boolean;
  live?: HTTPRouteObject;
  namespace: string;
  /** The first parent's Gateway (for the URL's scheme); undefined when it could not be read. */
  gateway?: GatewayObject;
}

/** An HTTPRoute is exposed when every parent accepted it with its references resolved (status.parents[].conditions). */
export function viewHTTPRoute(e: HTTPRouteExposure, r: HTTPRouteInputs): ExposureView {
  if (!r.served) {
    return {
      status: 'False',
      reason: 'HTTPRouteAPIMissing',
      message: `the HTTPRoute API (${GATEWAY_API_GROUP}/${HTTPROUTE_VERSION}) is not served in this cluster: install the Gateway API CRDs (spec.httpRoute is not applied until then)`,
    };
  }
  const first = e.parentRefs[0]!;
  const scheme = listenerScheme(r.gateway, first);
  const url = scheme ? publicURL(scheme, e.hostnames?.[0]) : undefined;
  const name = r.live?.metadata.name ?? 'the HTTPRoute';
  if (!r.live) return { status: 'Unknown', reason: 'Pending', message: `${name} applied; not observed yet`, url };
  const problems: { reason: string; text: string }[] = [];
  for (const p of e.parentRefs) {
    const seen = (r.live.status?.parents ?? []).find((s) => sameParent(s.parentRef, p, r.namespace));
    const who = parentName(p, r.namespace);
    if (!seen) {
      problems.push({ reason: 'Pending', text: `${who}: no Gateway controller has reported on it yet (status.parents has no entry)` });
      continue;
    }
    for (const [type, reason] of [['Accepted', 'NotAccepted'], ['ResolvedRefs', 'RefsNotResolved']] as const) {
      const c = seen.conditions?.find((x) => x.type === type);
      if (c?.status !== 'True') problems.push({ reason, text: `${who}: ${type}=${c?.status ?? 'absent'}${c ? ` (${c.reason ?? ''}${c.message ? `: ${c.message}` : ''})` : ''}` });
    }
  }
  if (problems.length) return { status: 'False', reason: problems[0]!.reason, message: `HTTPRoute ${name}: ${problems.map((p) => p.text).join('; ')}`, url };
  const note = scheme ? '' : `; the parent Gateway ${parentName(first, r.namespace)} could not be read, so the URL's scheme is unknown and status.url stays the Service's`;
  return { status: 'True', reason: 'Accepted', message: `HTTPRoute ${name} accepted by ${e.parentRefs.map((p) => parentName(p, r.namespace)).join(', ')}${note}`, url };
}
