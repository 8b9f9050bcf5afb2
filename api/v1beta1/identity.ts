// The caller's identity passed on to the MCP server, so its tools run with the caller's own
// rights (kubernetes-mcp-server's model). Opt-in per server. The MCP specification forbids
// passing a client's token through unchanged by default, so the default is RFC 8693 token
// exchange for a token whose audience is the server; passthrough is an explicit choice.
import { Type, type Static } from 'typebox';
import { cel, StringEnum } from './schema.js';

export const IDENTITY_MODES = ['exchange', 'passthrough'] as const;
import { DEFAULT_IDENTITY_ENV, DEFAULT_IDENTITY_HEADER } from './defaults.js';

export { DEFAULT_IDENTITY_ENV, DEFAULT_IDENTITY_HEADER };

const exchangeFields = {
  tokenURL: Type.Optional(Type.String({ pattern: '^https?://.*', description: "The issuer's token endpoint (default: from its OpenID metadata)." })),
  clientId: Type.String({ minLength: 1, description: 'The agent as an OAuth client of the issuer (token exchange is a client request).' }),
  audience: Type.String({ minLength: 1, description: "Audience of the exchanged token: the MCP server's own (never the agent's)." }),
  scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { 'x-kubernetes-list-type': 'set', description: 'Scopes to ask for.' })),
};

const identityFields = {
  mode: StringEnum(IDENTITY_MODES, {
    default: 'exchange',
    description:
      "exchange: RFC 8693 token exchange at the OIDC issuer for a token meant for the server (the safe default); passthrough: the caller's own token, unchanged — the server then holds a token for the agent's audience, usable anywhere that audience is accepted.",
  }),
  env: Type.Optional(
    Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: `stdio servers: the environment variable of each session's server process (default ${DEFAULT_IDENTITY_ENV}).` }),
  ),
  header: Type.Optional(
    Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", description: `HTTP servers: the header carrying "Bearer <token>" on each session's requests (default ${DEFAULT_IDENTITY_HEADER}).` }),
  ),
};

const IDENTITY_DESCRIPTION =
  "The caller's identity for the server: every session gets its own server process (stdio) or upstream session (HTTP) carrying the caller's token — exchanged, or passed through — and ends when the token expires. Needs oidcConfig (a verified bearer token) and session.mode per-session.";

const rules = cel({ rule: "self.mode == 'exchange' ? has(self.exchange) : true", message: 'exchange is required for identity mode exchange' });

/** spec.identity of an MCPServer. */
export const Identity = Type.Object(
  {
    ...identityFields,
    exchange: Type.Optional(
      Type.Object({ ...exchangeFields, clientSecretRef: Type.Object({ name: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }) }, { description: 'RFC 8693 token exchange.' }),
    ),
  },
  { description: IDENTITY_DESCRIPTION, ...rules },
);
export type Identity = Static<typeof Identity>;

/** The agent config's identity: the client secret by the file it is mounted at. */
export const AgentIdentity = Type.Object(
  {
    ...identityFields,
    exchange: Type.Optional(Type.Object({ ...exchangeFields, clientSecretFile: Type.String({ minLength: 1 }) }, { description: 'RFC 8693 token exchange.' })),
  },
  { description: IDENTITY_DESCRIPTION, ...rules },
);
export type AgentIdentity = Static<typeof AgentIdentity>;
