/** The session-based protocol revisions the agent serves downstream, oldest first. */
export const SESSION_PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'] as const;
export const LATEST_SESSION_PROTOCOL_VERSION = '2025-11-25';
/** Per the streamable HTTP transport: a request without the header is taken as this revision. */
export const DEFAULT_HEADER_PROTOCOL_VERSION = '2025-03-26';

const supported = new Set<string>(SESSION_PROTOCOL_VERSIONS);

export function isSupportedSessionVersion(version: string): boolean {
  return supported.has(version);
}

/** Lifecycle negotiation: answer with the client's version when supported, else our latest. */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === 'string' && supported.has(requested) ? requested : LATEST_SESSION_PROTOCOL_VERSION;
}

/** Revisions from 2025-11-25 on expect SSE priming events (an id with empty data) and `retry:`. */
export function wantsSsePriming(version: string): boolean {
  return version >= '2025-11-25';
}
