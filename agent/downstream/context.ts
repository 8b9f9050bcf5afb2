import type { Logger } from 'pino';
import type { Principal } from '../core/principal.js';
import type { Credentials } from '../policy/authn/credentials.js';
import type { Gateway } from '../mux/gateway.js';
import type { Refusal } from '../protocol/refusal.js';

/** What every downstream transport needs from the agent. */
export interface DownstreamContext {
  gateway: Gateway;
  logger: Logger;
  /** Verifies the request's credentials by the configured methods (sync when the credential is cached). */
  authenticate(credentials: Credentials): Principal | Refusal | Promise<Principal | Refusal>;
  /** Host header allowlist (DNS rebinding), checked before the Origin rule; undefined = no Host header. */
  hostAllowed(host: string | undefined): boolean;
  /** Origin allowlist; `host` is the request's Host header (already checked by `hostAllowed`). */
  originAllowed(origin: string, host: string | undefined): boolean;
  maxBodyBytes: number;
  /** Events kept per session for `Last-Event-ID` resumption. */
  eventBufferSize: number;
  /** Suggested reconnection delay sent in SSE `retry:` fields. */
  sseRetryMs: number;
}
