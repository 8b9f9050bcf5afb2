// The egress allow-list: which host names, addresses and ports the server may reach through the
// agent's egress proxy (permissionProfile.network.outbound). Pure: no DNS here; the proxy resolves
// names and asks about each address.
import { BlockList, isIP } from 'node:net';
import { normalizeHost, parseHostEntry } from '../../api/egress-hosts.js';

/** The outbound part of a permission profile, as the proxy enforces it. */
export interface EgressRules {
  allowHost: readonly string[];
  allowPort: readonly number[];
}

/**
 * Addresses no name may lead to (loopback, unspecified, link-local with the cloud metadata
 * services, multicast): a name that resolves there is refused unless an IP/CIDR entry of
 * allowHost covers the address itself. This stops SSRF through the proxy to the pod's own agent
 * and to 169.254.169.254, and DNS names rebound to them.
 */
const BLOCKED = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['127.0.0.0', 8], ['169.254.0.0', 16], ['224.0.0.0', 4], ['255.255.255.255', 32]] as const) BLOCKED.addSubnet(net, bits, 'ipv4');
// BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 ranges itself.
for (const [net, bits] of [['::', 128], ['::1', 128], ['fe80::', 10], ['ff00::', 8], ['fd00:ec2::254', 128]] as const) BLOCKED.addSubnet(net, bits, 'ipv6');

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** True for addresses only an explicit IP/CIDR entry may open (see BLOCKED). */
export function isBlockedAddress(address: string): boolean {
  return isIP(address) !== 0 && BLOCKED.check(address, familyOf(address));
}

/**
 * allowHost / allowPort with ToolHive's meaning (its egress proxy is Squid with
 * `http_access allow allowed_ports allowed_dsts`): an empty list does not restrict its dimension,
 * but both empty allow nothing. Entries (api/egress.ts parses them):
 *   `example.com`    that name only;
 *   `.example.com`   example.com and every name under it (Squid's dstdomain form);
 *   `*.example.com`  every name under example.com, not example.com itself;
 *   `10.1.2.3`, `10.0.0.0/8`, `2001:db8::/32`  addresses, matched against what a name resolves to
 *                    (and IP literals); the only way to open a BLOCKED address.
 * Entries that do not parse match nothing (the reconciler reports them on status).
 */
export class AllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: { suffix: string; includeApex: boolean }[] = [];
  private readonly networks = new BlockList();
  private readonly ports: ReadonlySet<number>;
  private readonly anyHost: boolean;
  /** Address entries exist: a name that matches no name entry is still resolved and its addresses judged. */
  readonly matchesAddresses: boolean;
  /** Nothing at all may be reached (empty allowHost and allowPort, e.g. `builtin: none`). */
  readonly allowsNothing: boolean;

  constructor(rules: EgressRules) {
    let networks = 0;
    for (const raw of rules.allowHost) {
      const entry = parseHostEntry(raw);
      if (entry?.kind === 'network') {
        this.networks.addSubnet(entry.address, entry.bits, familyOf(entry.address));
        networks++;
      } else if (entry?.kind === 'suffix') this.suffixes.push(entry);
      else if (entry?.kind === 'name') this.exact.add(entry.name);
    }
    this.matchesAddresses = networks > 0;
    this.ports = new Set(rules.allowPort);
    this.anyHost = rules.allowHost.length === 0;
    this.allowsNothing = this.anyHost && this.ports.size === 0;
  }

  portAllowed(port: number): boolean {
    return !this.allowsNothing && (this.ports.size === 0 || this.ports.has(port));
  }

  /** Does the host itself match a name entry? An IP literal matches only address entries (addressAllowed). */
  nameAllowed(host: string): boolean {
    if (this.allowsNothing) return false;
    if (this.anyHost) return true;
    const h = normalizeHost(host);
    if (isIP(h) !== 0) return false;
    if (this.exact.has(h)) return true;
    return this.suffixes.some(({ suffix, includeApex }) => h.endsWith(suffix) || (includeApex && h === suffix.slice(1)));
  }

  /**
   * May the proxy connect to `address`, reached through a host that did (`nameOk`) or did not
   * match a name entry? An address entry covers it, or the name matched and it is not BLOCKED.
   */
  addressAllowed(address: string, nameOk: boolean): boolean {
    if (this.allowsNothing || isIP(address) === 0) return false;
    if (this.matchesAddresses && this.networks.check(address, familyOf(address))) return true;
    return nameOk && !isBlockedAddress(address);
  }
}
