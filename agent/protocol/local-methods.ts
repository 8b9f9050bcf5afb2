/**
 * The session-protocol methods the agent answers itself rather than passing them to the server,
 * in one table. One server serves every session (DESIGN §1), so what is per session must not
 * reach it as is:
 *
 * - the gateway answers `initialize` from the result of the one initialize it sent (mux/gateway);
 * - the multiplexer answers the others on a live session (mux/upstream-session), keeping the
 *   server's side consistent: the most verbose log level any session asked for, resource
 *   subscriptions reference-counted across sessions;
 * - in front of a 2026-07-28 server, which no longer has them, the version bridge stands in for
 *   them (upstream/version-bridge);
 * - revision 2026-07-28 removed them all, so a modern client asking for one is answered with an
 *   unknown method (downstream/modern).
 */
export const LOCAL_METHODS = {
  initialize: 'answered from the cached result of the agent’s own initialize',
  ping: 'answered by the agent',
  'logging/setLevel': 'per session; the server logs at the most verbose level any session asked for',
  'resources/subscribe': 'per session; the server is subscribed once per URI (reference-counted)',
  'resources/unsubscribe': 'per session; the server is unsubscribed when the last session lets go',
} as const;

export type LocalMethod = keyof typeof LOCAL_METHODS;

/** All of them: what 2026-07-28 removed. */
export const LOCAL_METHOD_NAMES: ReadonlySet<string> = new Set(Object.keys(LOCAL_METHODS));

/** Those answered on an established session (initialize opens one, so the gateway has it). */
export const SESSION_LOCAL_METHODS: ReadonlySet<string> = new Set(Object.keys(LOCAL_METHODS).filter((m) => m !== 'initialize'));
