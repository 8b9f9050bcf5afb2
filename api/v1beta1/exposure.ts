// Exposure of an agent's Service outside the cluster: an Ingress (networking.k8s.io/v1) or a
// Gateway API HTTPRoute (gateway.networking.k8s.io/v1), optionally with a TLS host. One schema for
// every kind that has a Service to expose (MCPGateway today; MCPServer can take the same fields).
import { Type, type Static } from 'typebox';
import { cel, Int32 } from './schema.js';

/** An RFC 1123 host name (lower case), optionally with a leading `*.` wildcard label, as Ingress and HTTPRoute take it. */
export const HOSTNAME_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const Hostname = (description: string) => Type.String({ pattern: HOSTNAME_PATTERN, minLength: 1, maxLength: 253, description });

export const IngressExposure = Type.Object(
  {
    host: Hostname('The host clients use; the Ingress routes every path of it (prefix /) to the Service.'),
    className: Type.Optional(Type.String({ minLength: 1, description: 'spec.ingressClassName of the Ingress (default: the cluster’s default class).' })),
    tls: Type.Optional(
      Type.Object(
        { secretName: Type.String({ minLength: 1, description: 'A kubernetes.io/tls Secret of this namespace with the host’s certificate (made by you or, with its annotation, cert-manager).' }) },
        { description: 'TLS for the host, terminated by the ingress controller: the status url is then https.' },
      ),
    ),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Annotations of the Ingress (controller settings, cert-manager’s issuer, …).' })),
  },
  { description: 'An Ingress (networking.k8s.io/v1) in front of the Service.' },
);
export type IngressExposure = Static<typeof IngressExposure>;

/** A Gateway API ParentReference (the Gateway, or one of its listeners, the route attaches to). */
export const ParentReference = Type.Object(
  {
    group: Type.Optional(Type.String({ description: 'Default gateway.networking.k8s.io.' })),
    kind: Type.Optional(Type.String({ description: 'Default Gateway.' })),
    namespace: Type.Optional(Type.String({ description: 'Default: the route’s namespace (another one must allow the route in its listener’s allowedRoutes).' })),
    name: Type.String({ minLength: 1 }),
    sectionName: Type.Optional(Type.String({ description: 'One listener of the Gateway, by name.' })),
    port: Type.Optional(Int32({ minimum: 1, maximum: 65535 })),
  },
  { description: 'Where the route attaches: a Gateway (or one of its listeners).' },
);
export type ParentReference = Static<typeof ParentReference>;

export const HTTPRouteExposure = Type.Object(
  {
    parentRefs: Type.Array(ParentReference, { minItems: 1, maxItems: 32, 'x-kubernetes-list-type': 'atomic', description: 'The Gateways that serve it.' }),
    hostnames: Type.Optional(
      Type.Array(Hostname('A host name of the route.'), { maxItems: 16, 'x-kubernetes-list-type': 'atomic', description: 'Host names it matches; the first is the status url’s.' }),
    ),
  },
  { description: 'A Gateway API HTTPRoute (gateway.networking.k8s.io/v1) to the Service; TLS is the parent listener’s (protocol HTTPS).' },
);
export type HTTPRouteExposure = Static<typeof HTTPRouteExposure>;

/** The spec fields, for a kind's spec; with the rule that keeps the URL unambiguous. */
export const ExposureFields = {
  ingress: Type.Optional(IngressExposure),
  httpRoute: Type.Optional(HTTPRouteExposure),
};
export const EXPOSURE_RULE = cel({ rule: '!(has(self.ingress) && has(self.httpRoute))', message: 'give at most one of ingress and httpRoute' })['x-kubernetes-validations'][0]!;

export const CONDITION_EXPOSED = 'Exposed';
