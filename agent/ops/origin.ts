const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Origin validation (DNS-rebinding protection, as the transport spec requires): allowed are
 * the configured origins (`*` = any), same-origin requests, and loopback pages. Same-origin
 * means Origin equal to Host, so it is safe only because the Host was checked first (host.ts).
 */
export function originPolicy(allowed: string[]): (origin: string, host: string | undefined) => boolean {
  const list = new Set(allowed.map((o) => o.replace(/\/$/, '')));
  const any = list.has('*');
  return (origin, host) => {
    if (any || list.has(origin)) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (host !== undefined && url.host === host) return true;
    return LOOPBACK_HOSTS.has(url.hostname);
  };
}
