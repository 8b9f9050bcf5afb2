import { describe, expect, it } from 'vitest';
import { allowHostIssues, parseHostEntry } from '../../api/egress.js';
import { AllowList, isBlockedAddress } from './allow-list.js';

describe('allowHost entries', () => {
  it('parses names, both wildcard forms, IPs and CIDRs; refuses the rest', () => {
    expect(parseHostEntry('API.Example.com.')).toEqual({ kind: 'name', name: 'api.example.com' });
    expect(parseHostEntry('.example.com')).toEqual({ kind: 'suffix', suffix: '.example.com', includeApex: true });
    expect(parseHostEntry('*.example.com')).toEqual({ kind: 'suffix', suffix: '.example.com', includeApex: false });
    expect(parseHostEntry('10.1.2.3')).toEqual({ kind: 'network', address: '10.1.2.3', bits: 32 });
    expect(parseHostEntry('10.0.0.0/8')).toEqual({ kind: 'network', address: '10.0.0.0', bits: 8 });
    expect(parseHostEntry('[2001:db8::1]')).toEqual({ kind: 'network', address: '2001:db8::1', bits: 128 });
    for (const bad of ['', 'exa mple.com', 'user@host', 'host/path', '10.0.0.0/33', '10.0.0.0/8/1', '*.', '*', 'http://example.com', 'a..b', 'host:443']) {
      expect(parseHostEntry(bad), bad).toBeUndefined();
    }
    expect(allowHostIssues('spec.x', ['ok.com', 'http://bad.com'])).toEqual([{ path: 'spec.x[1]', message: expect.stringContaining('"http://bad.com" is neither') }]);
  });
});

describe('AllowList', () => {
  it('names: exact, `.domain` with its apex, `*.domain` without', () => {
    const a = new AllowList({ allowHost: ['api.github.com', '.example.com', '*.svc.test'], allowPort: [443] });
    expect(a.nameAllowed('api.github.com')).toBe(true);
    expect(a.nameAllowed('API.GITHUB.COM.')).toBe(true);
    expect(a.nameAllowed('github.com')).toBe(false);
    expect(a.nameAllowed('evil-api.github.com')).toBe(false);
    expect(a.nameAllowed('example.com')).toBe(true);
    expect(a.nameAllowed('a.b.example.com')).toBe(true);
    expect(a.nameAllowed('notexample.com')).toBe(false);
    expect(a.nameAllowed('x.svc.test')).toBe(true);
    expect(a.nameAllowed('svc.test')).toBe(false);
    expect(a.nameAllowed('93.184.215.14')).toBe(false);
  });

  it("ports: ToolHive's meaning (an empty list does not restrict its dimension; both empty allow nothing)", () => {
    const hostsOnly = new AllowList({ allowHost: ['a.test'], allowPort: [] });
    expect(hostsOnly.portAllowed(8443)).toBe(true);
    const portsOnly = new AllowList({ allowHost: [], allowPort: [443] });
    expect(portsOnly.portAllowed(443)).toBe(true);
    expect(portsOnly.portAllowed(80)).toBe(false);
    expect(portsOnly.nameAllowed('anything.test')).toBe(true);
    const none = new AllowList({ allowHost: [], allowPort: [] });
    expect(none.allowsNothing).toBe(true);
    expect(none.portAllowed(443)).toBe(false);
    expect(none.nameAllowed('a.test')).toBe(false);
    expect(none.addressAllowed('8.8.8.8', true)).toBe(false);
  });

  it('addresses: an allowed name never leads to loopback, link-local or metadata addresses; an IP/CIDR entry opens them', () => {
    const a = new AllowList({ allowHost: ['a.test', '10.0.0.0/8', '127.0.0.1'], allowPort: [] });
    expect(a.matchesAddresses).toBe(true);
    expect(a.addressAllowed('93.184.215.14', true)).toBe(true);
    expect(a.addressAllowed('93.184.215.14', false)).toBe(false);
    expect(a.addressAllowed('10.9.8.7', false)).toBe(true);
    expect(a.addressAllowed('169.254.169.254', true)).toBe(false);
    expect(a.addressAllowed('127.0.0.1', false)).toBe(true); // explicitly listed
    expect(a.addressAllowed('127.0.0.2', true)).toBe(false);
    expect(a.addressAllowed('not-an-ip', true)).toBe(false);
    for (const blocked of ['127.0.0.1', '0.0.0.0', '169.254.169.254', '::1', '::', 'fe80::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', 'fd00:ec2::254', '224.0.0.1']) {
      expect(isBlockedAddress(blocked), blocked).toBe(true);
    }
    for (const open of ['10.0.0.1', '8.8.8.8', '2001:db8::1', '192.168.1.1']) expect(isBlockedAddress(open), open).toBe(false);
  });
});
