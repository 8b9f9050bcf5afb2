import { describe, expect, it } from 'vitest';
import type { HTTPRouteObject } from '../../api/gateway-api.js';
import { MCPGATEWAY_KIND } from '../../api/v1beta1/mcpgateway.js';
import { buildHTTPRoute, buildIngress, listenerScheme, viewHTTPRoute, viewIngress } from './exposure.js';

const ref = { kind: MCPGATEWAY_KIND, name: 'hub', namespace: 'team' } as const;
const owner = { kind: MCPGATEWAY_KIND, name: 'hub', uid: 'u-1' };

describe('exposure objects', () => {
  it('an Ingress: the host, prefix / to the Service port, TLS and class and annotations, owned', () => {
    const ing = buildIngress({ ref, owner, port: 8080, ingress: { host: 'mcp.example.com', className: 'nginx', tls: { secretName: 'mcp-tls' }, annotations: { 'cert-manager.io/cluster-issuer': 'le' } } })!;
    expect(ing.metadata).toMatchObject({ name: 'mcpgw-hub', namespace: 'team', annotations: { 'cert-manager.io/cluster-issuer': 'le', 'mcp.ome.io/owner': 'hub' } });
    expect(ing.metadata!.ownerReferences![0]).toMatchObject({ kind: 'MCPGateway', uid: 'u-1', controller: true });
    expect(ing.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['mcp.example.com'], secretName: 'mcp-tls' }],
      rules: [{ host: 'mcp.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'mcpgw-hub', port: { number: 8080 } } } }] } }],
    });
    expect(buildIngress({ ref, owner, port: 8080 })).toBeUndefined();
  });

  it('an HTTPRoute: its parents and host names, prefix / to the Service port', () => {
    const r = buildHTTPRoute({ ref, owner, port: 9000, httpRoute: { parentRefs: [{ name: 'edge', namespace: 'infra', sectionName: 'https' }], hostnames: ['mcp.example.com'] } })!;
    expect(r).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'mcpgw-hub', namespace: 'team' } });
    expect(r.spec).toEqual({
      parentRefs: [{ name: 'edge', namespace: 'infra', sectionName: 'https' }],
      hostnames: ['mcp.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'mcpgw-hub', port: 9000 }] }],
    });
  });
});

describe('what their status says', () => {
  it('an Ingress: https with TLS, exposed once it has an address', () => {
    const e = { host: 'mcp.example.com', tls: { secretName: 's' } };
    expect(viewIngress(e, undefined)).toMatchObject({ status: 'Unknown', url: 'https://mcp.example.com/mcp' });
    expect(viewIngress({ host: 'mcp.example.com', className: 'nginx' }, { metadata: { name: 'mcpgw-hub' } })).toEqual({
      status: 'False',
      reason: 'NoAddress',
      message: 'Ingress mcpgw-hub has no load-balancer address yet: no ingress controller of class nginx has admitted it',
      url: 'http://mcp.example.com/mcp',
    });
    expect(viewIngress(e, { metadata: { name: 'mcpgw-hub' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } })).toMatchObject({
      status: 'True',
      reason: 'AddressAssigned',
      message: 'Ingress mcpgw-hub at 192.0.2.10 (TLS from Secret s)',
    });
  });

  const route = (parents: NonNullable<HTTPRouteObject['status']>['parents']): HTTPRouteObject =>
    ({ ...buildHTTPRoute({ ref, owner, port: 8080, httpRoute: { parentRefs: [{ name: 'edge' }] } })!, status: { parents } }) as HTTPRouteObject;
  const e = { parentRefs: [{ name: 'edge' }], hostnames: ['mcp.example.com'] };
  const gateway = { metadata: { name: 'edge' }, spec: { listeners: [{ name: 'https', protocol: 'HTTPS', port: 443 }] } };

  it('an HTTPRoute: Accepted and ResolvedRefs of every parent; the scheme from the parent listener', () => {
    const ok = viewHTTPRoute(e, { served: true, namespace: 'team', gateway, live: route([{ parentRef: { name: 'edge' }, conditions: [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }] }]) });
    expect(ok).toEqual({ status: 'True', reason: 'Accepted', message: 'HTTPRoute mcpgw-hub accepted by Gateway team/edge', url: 'https://mcp.example.com/mcp' });
    const refused = viewHTTPRoute(e, {
      served: true,
      namespace: 'team',
      gateway,
      live: route([{ parentRef: { name: 'edge', namespace: 'team' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', message: 'no listener allows team' }, { type: 'ResolvedRefs', status: 'True' }] }]),
    });
    expect(refused).toMatchObject({ status: 'False', reason: 'NotAccepted', message: 'HTTPRoute mcpgw-hub: Gateway team/edge: Accepted=False (NotAllowedByListeners: no listener allows team)' });
    expect(viewHTTPRoute(e, { served: true, namespace: 'team', live: route([]) })).toMatchObject({ status: 'False', reason: 'Pending', url: undefined });
    expect(viewHTTPRoute(e, { served: false, namespace: 'team' })).toMatchObject({ status: 'False', reason: 'HTTPRouteAPIMissing' });
  });

  it('listenerScheme: the named listener, else any HTTPS one', () => {
    const g = { metadata: {}, spec: { listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }, { name: 'https', protocol: 'HTTPS', port: 443 }] } };
    expect(listenerScheme(g, { name: 'x' })).toBe('https');
    expect(listenerScheme(g, { name: 'x', sectionName: 'http' })).toBe('http');
    expect(listenerScheme(undefined, { name: 'x' })).toBeUndefined();
  });
});
