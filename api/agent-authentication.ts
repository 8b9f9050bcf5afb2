// The agent's `authentication` section: spec.authentication with files in place of Secret
// references (the reconciler mounts the Secrets into the agent container and names the files).
import { Type, type Static } from 'typebox';
import { AUTH_METHOD_TYPES, DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE, HEADER_NAME_PATTERN } from './v1beta1/authentication.js';
import { cel, StringEnum } from './v1beta1/schema.js';

export { AUTH_METHOD_TYPES, DEFAULT_API_KEY_HEADER, DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE, type AuthMethodType } from './v1beta1/authentication.js';

export const AgentAuthMethod = Type.Object(
  {
    type: StringEnum(AUTH_METHOD_TYPES, { description: 'None, Bearer, JWT, ApiKey, Basic or ClientCertificate (docs/policy.md, "Client authentication methods").' }),
    keysFile: Type.Optional(Type.String({ minLength: 1, description: 'ApiKey: YAML/JSON list of {hash: "sha256:<hex>", principal, groups}; reloaded when it changes.' })),
    header: Type.Optional(Type.String({ minLength: 1, pattern: HEADER_NAME_PATTERN, description: 'ApiKey: the request header carrying the key (default X-API-Key).' })),
    usersFile: Type.Optional(Type.String({ minLength: 1, description: 'Basic: YAML/JSON list of {user, hash (bcrypt or argon2), groups}; reloaded when it changes.' })),
    realm: Type.Optional(Type.String({ minLength: 1, pattern: '^[^"\\\\]*$', description: 'Basic: the realm named in WWW-Authenticate (default the server name).' })),
  },
  cel(
    { rule: "self.type == 'ApiKey' ? has(self.keysFile) : true", message: 'keysFile is required for ApiKey' },
    { rule: "self.type == 'Basic' ? has(self.usersFile) : true", message: 'usersFile is required for Basic' },
  ),
);
export type AgentAuthMethod = Static<typeof AgentAuthMethod>;

export const AgentAuthentication = Type.Object(
  {
    methods: Type.Array(AgentAuthMethod, { minItems: 1, maxItems: 6, description: 'Tried in this order (see spec.authentication.methods).' }),
    maxFailuresPerMinute: Type.Integer({ minimum: 1, default: DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE, description: 'Failed authentications per client address and minute before 429.' }),
  },
  { description: 'Client authentication methods in order; absent: Bearer when oidcConfig is set, else None.' },
);
export type AgentAuthentication = Static<typeof AgentAuthentication>;

/** Where the reconciler mounts the authentication files (Secret keys, the client CA) into the agent container. */
export const AUTH_FILES_MOUNT_PATH = '/etc/ome-mcp-auth';
/** File name of method i's Secret key (keys or users file) under AUTH_FILES_MOUNT_PATH. */
export const authFileName = (i: number) => `method-${i}`;
/** File name of the client CA bundle under AUTH_FILES_MOUNT_PATH. */
export const CLIENT_CA_FILE_NAME = 'client-ca.crt';
