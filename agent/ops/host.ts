/** Names a loopback listener is reached by; accepted on any bind (the agent always listens there too, or cannot be reached by them). */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Host header validation against DNS rebinding: a page on evil.example whose name the attacker
 * re-points at this agent's address reaches it with `Host: evil.example` (and the matching
 * Origin, which then looks same-origin). Allowed are the bind address, the loopback names and
 * `allowed` (`host` = any port, `host:port` = that port, `*` = any Host). On a wildcard bind
 * (0.0.0.0, ::) with no list any Host is accepted: a pod is reached by Service DNS names and IPs.
 */
export function hostPolicy(bind: string, allowed: string[]): (host: string | undefined) => boolean {
  if (allowed.includes('*') || (allowed.length === 0 && WILDCARD_BINDS.has(bind))) return () => true;
  const anyPort = new Set(LOOPBACK_NAMES);
  const exact = new Set<string>();
  if (!WILDCARD_BINDS.has(bind)) anyPort.add(splitHost(bracketed(bind)).name);
  for (const entry of allowed) {
    const { name, port } = splitHost(bracketed(entry));
    if (port === undefined) anyPort.add(name);
    else exact.add(`${name}:${port}`);
  }
  // Clients send the same Host on every request: the last answer is kept.
  let lastHost: string | undefined;
  let lastAnswer = false;
  return (host) => {
    if (host === undefined) return false;
    if (host === lastHost) return lastAnswer;
    const { name, port } = splitHost(host);
    lastAnswer = anyPort.has(name) || (port !== undefined && exact.has(`${name}:${port}`));
    lastHost = host;
    return lastAnswer;
  };
}

/**
 * A bare IPv6 address as it appears in a Host header. Two colons and no bracket can only be one:
 * a name or an IPv4 address has at most one (its port's). (node:net's isIPv6 compiles a regular
 * expression of several KB on first use: 8 ms of the agent's start-up.)
 */
function bracketed(value: string): string {
  return !value.startsWith('[') && value.indexOf(':') !== value.lastIndexOf(':') ? `[${value}]` : value;
}

/** `name[:port]` with the name lower-cased; IPv6 names keep their brackets. */
function splitHost(value: string): { name: string; port: string | undefined } {
  const v = value.trim().toLowerCase();
  const colon = v.lastIndexOf(':');
  if (colon === -1 || colon < v.lastIndexOf(']')) return { name: v, port: undefined };
  return { name: v.slice(0, colon), port: v.slice(colon + 1) };
}
