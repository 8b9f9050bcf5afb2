// spec.authentication: the client authentication methods an MCPServer accepts, tried in the
// declared order (additive to OEP-0005's oidcConfig, which Bearer and JWT use). Method names are
// the PR review's AuthMethod values. The agent-side shape (files instead of Secret references)
// is api/agent-authentication.ts; the reconciler turns one into the other.
import { Type, type Static } from 'typebox';
import { cel, StringEnum } from './schema.js';

export const AUTH_METHOD_TYPES = ['None', 'Bearer', 'JWT', 'ApiKey', 'Basic', 'ClientCertificate'] as const;
export type AuthMethodType = (typeof AUTH_METHOD_TYPES)[number];

import { DEFAULT_API_KEY_HEADER, DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE } from './defaults.js';

export { DEFAULT_API_KEY_HEADER, DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE };
/** HTTP header names (RFC 9110 token). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const AuthSecretKeyRef = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name of the Secret (same namespace).' }),
    key: Type.String({ minLength: 1, description: 'Key holding the file.' }),
  },
  { description: 'A key of a Secret, mounted into the agent container alone.' },
);

export const CLIENT_CA_KINDS = ['Secret', 'ConfigMap'] as const;
export const ClientCARef = Type.Object(
  {
    kind: Type.Optional(StringEnum(CLIENT_CA_KINDS, { default: 'Secret', description: 'Secret (e.g. cert-manager ca.crt) or ConfigMap (e.g. a trust bundle).' })),
    name: Type.String({ minLength: 1, description: 'Name of the Secret or ConfigMap (same namespace).' }),
    key: Type.Optional(Type.String({ minLength: 1, default: 'ca.crt', description: 'Key holding the PEM CA bundle.' })),
  },
  { description: 'The CAs that sign accepted client certificates.' },
);
export type ClientCARef = Static<typeof ClientCARef>;

export const AuthMethodSpec = Type.Object(
  {
    type: StringEnum(AUTH_METHOD_TYPES, {
      description:
        'None: anonymous (last only). Bearer: a bearer token verified per oidcConfig (JWT against the JWKS, or RFC 7662 introspection when opaque). JWT: Bearer restricted to JWTs (no introspection). ApiKey: hashed keys from a Secret. Basic: bcrypt or argon2 password hashes from a Secret. ClientCertificate: a TLS client certificate verified against caRef (needs spec.tls).',
    }),
    secretRef: Type.Optional(AuthSecretKeyRef),
    header: Type.Optional(
      Type.String({ minLength: 1, pattern: HEADER_NAME_PATTERN, description: `ApiKey: the request header carrying the key (default ${DEFAULT_API_KEY_HEADER}).` }),
    ),
    realm: Type.Optional(Type.String({ minLength: 1, pattern: '^[^"\\\\]*$', description: 'Basic: the realm named in WWW-Authenticate (default the server name).' })),
    caRef: Type.Optional(ClientCARef),
  },
  {
    description: 'One client authentication method.',
    ...cel(
      { rule: "self.type == 'ApiKey' ? has(self.secretRef) : true", message: 'secretRef is required for ApiKey (a Secret key holding the hashed keys)' },
      { rule: "self.type == 'Basic' ? has(self.secretRef) : true", message: 'secretRef is required for Basic (a Secret key holding the users and hashes)' },
      { rule: "self.type == 'ClientCertificate' ? has(self.caRef) : true", message: 'caRef is required for ClientCertificate (the CA that signs client certificates)' },
    ),
  },
);
export type AuthMethodSpec = Static<typeof AuthMethodSpec>;

export const AuthenticationSpec = Type.Object(
  {
    methods: Type.Array(AuthMethodSpec, {
      minItems: 1,
      maxItems: 6,
      'x-kubernetes-list-type': 'atomic',
      description:
        'Tried in this order: a method whose credential is absent passes to the next; one whose credential is wrong refuses (401). None may only be last; Bearer and JWT need oidcConfig; each type at most once.',
    }),
    maxFailuresPerMinute: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_MAX_AUTH_FAILURES_PER_MINUTE,
        description: 'Failed authentications allowed per client address and minute; more are answered 429 (JSON-RPC -32029) until the minute is over.',
      }),
    ),
  },
  { description: 'Client authentication: several methods, tried in a declared order; every one yields the same principal for Cedar.' },
);
export type AuthenticationSpec = Static<typeof AuthenticationSpec>;

/**
 * Problems of a method list the schema cannot express: order, duplicates, prerequisites. `where`
 * prefixes each path. `has.tls` undefined: not checked (the agent's TLS may come from flags).
 */
export function authMethodIssues(methods: readonly { type: AuthMethodType }[], has: { oidcConfig: boolean; tls?: { present: boolean; field: string } }, where: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  methods.forEach((m, i) => {
    const path = `${where}[${i}].type`;
    const kind = m.type === 'JWT' ? 'Bearer' : m.type;
    if (seen.has(kind)) out.push({ path, message: m.type === 'JWT' || m.type === 'Bearer' ? 'Bearer and JWT both read bearer tokens: list one of them, once' : `${m.type} is listed twice` });
    seen.add(kind);
    if (m.type === 'None' && i !== methods.length - 1) out.push({ path, message: 'None accepts every caller, so it may only be the last method' });
    if ((m.type === 'Bearer' || m.type === 'JWT') && !has.oidcConfig) out.push({ path, message: `${m.type} verifies tokens per oidcConfig, which is not set` });
    if (m.type === 'ClientCertificate' && has.tls && !has.tls.present) out.push({ path, message: `ClientCertificate needs TLS with a client CA (${has.tls.field})` });
  });
  return out;
}
