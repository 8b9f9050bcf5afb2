import { describe, expect, it } from 'vitest';
import { apiServerAddresses } from './api-server.js';

describe('the API server addresses for a NetworkPolicy', () => {
  it('the kubernetes Service and its EndpointSlice addresses, by their https ports', () => {
    const service = { spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] } };
    const slice = { addressType: 'IPv4', endpoints: [{ addresses: ['172.18.0.2'] }, { addresses: ['172.18.0.3'] }], ports: [{ name: 'https', port: 6443 }] };
    expect(apiServerAddresses(service, slice)).toEqual({
      service: { address: '10.96.0.1', port: 443 },
      endpoints: [{ address: '172.18.0.2', port: 6443 }, { address: '172.18.0.3', port: 6443 }],
    });
  });

  it('either alone is enough; neither is undefined (the policy falls back to the ports)', () => {
    expect(apiServerAddresses({ spec: { clusterIP: '10.96.0.1', ports: [{ port: 443 }] } }, undefined)).toEqual({ service: { address: '10.96.0.1', port: 443 }, endpoints: [] });
    expect(apiServerAddresses(undefined, { addressType: 'IPv4', endpoints: [{ addresses: ['172.18.0.2'] }], ports: [{ port: 6443 }] })?.endpoints).toEqual([{ address: '172.18.0.2', port: 6443 }]);
    expect(apiServerAddresses(undefined, undefined)).toBeUndefined();
    expect(apiServerAddresses({ spec: { clusterIP: 'None' } }, { addressType: 'IPv4', endpoints: [] })).toBeUndefined();
  });
});
