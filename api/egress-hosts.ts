// Host entries of the egress allow-list (names, wildcards, IPs, CIDRs): how the agent's proxy
// matches them and how a config's entries are checked. Plain functions, no schema: the proxy
// imports them at start-up (api/egress.ts has the schema and re-exports these).
import { isIP } from 'node:net';
import type { Issue } from './validate.js';

export type HostEntry =
  | { kind: 'name'; name: string }
  /** `.domain` (includeApex) or `*.domain`; `suffix` keeps its leading dot. */
  | { kind: 'suffix'; suffix: string; includeApex: boolean }
  | { kind: 'network'; address: string; bits: number };

/** Lower case, no trailing dot, no IPv6 brackets: the form names and addresses are compared in. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** A DNS name (labels of letters, digits, `-`, `_`): no spaces, `@`, `/`, `%`, `:`. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

export function isHostName(host: string): boolean {
  return HOST_NAME.test(host);
}

/** One allowHost entry, or undefined when it is neither a name, a wildcard, nor an IP/CIDR. */
export function parseHostEntry(raw: string): HostEntry | undefined {
  const entry = normalizeHost(raw);
  if (entry.includes('/') || isIP(entry) !== 0) {
    const [address = '', bits, extra] = entry.split('/');
    const max = isIP(address) === 6 ? 128 : 32;
    if (extra !== undefined || isIP(address) === 0) return undefined;
    if (bits === undefined) return { kind: 'network', address, bits: max };
    return /^\d{1,3}$/.test(bits) && Number(bits) <= max ? { kind: 'network', address, bits: Number(bits) } : undefined;
  }
  if (entry.startsWith('*.')) return HOST_NAME.test(entry.slice(2)) ? { kind: 'suffix', suffix: entry.slice(1), includeApex: false } : undefined;
  if (entry.startsWith('.')) return HOST_NAME.test(entry.slice(1)) ? { kind: 'suffix', suffix: entry, includeApex: true } : undefined;
  return HOST_NAME.test(entry) ? { kind: 'name', name: entry } : undefined;
}

/** An issue per allowHost entry the proxy could not match (a typo would otherwise allow nothing, silently). */
export function allowHostIssues(path: string, allowHost: readonly string[]): Issue[] {
  return allowHost.flatMap((h, i) =>
    parseHostEntry(h) ? [] : [{ path: `${path}[${i}]`, message: `${JSON.stringify(h)} is neither a host name, a .domain or *.domain wildcard, nor an IP or CIDR` }],
  );
}
