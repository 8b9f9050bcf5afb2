// Operational settings of the agent — timeouts, concurrency, rate and size limits, audit — shared
// by the MCPServer API (spec.limits, spec.audit) and the agent config the reconciler writes, so a
// field means the same on both sides.
import { Type, type Static } from 'typebox';
import { StringEnum } from './schema.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_REDACTED_ARGUMENTS, DURATION_PATTERN, SESSION_MODES } from './defaults.js';

export { DEFAULT_MAX_BODY_BYTES, DEFAULT_REDACTED_ARGUMENTS, DURATION_PATTERN, durationToMs, SESSION_MODES } from './defaults.js';

const Duration = (options: Record<string, unknown>) => Type.String({ pattern: DURATION_PATTERN, ...options });


export const PrincipalLimits = Type.Object(
  {
    maxConcurrentRequests: Type.Optional(
      Type.Integer({ minimum: 1, description: 'In-flight requests allowed per principal (unset: only the global limit).' }),
    ),
    requestsPerMinute: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Sustained request rate per principal (token bucket; unset: unlimited).' }),
    ),
    burst: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Bucket size of the per-principal rate limit; defaults to requestsPerMinute.' }),
    ),
  },
  { description: 'Limits applied per authenticated principal (anonymous callers share one principal).' },
);
export type PrincipalLimits = Static<typeof PrincipalLimits>;

export const ToolRateLimit = Type.Object(
  {
    tool: Type.String({ minLength: 1, description: 'Tool name, or * for every tool without a rule of its own.' }),
    requestsPerMinute: Type.Integer({ minimum: 1, description: 'Sustained calls per minute of this tool, per principal (token bucket).' }),
    burst: Type.Optional(Type.Integer({ minimum: 1, description: 'Bucket size; defaults to requestsPerMinute.' })),
  },
  { description: 'A rate limit on calls of one tool, per principal: beyond it HTTP 429 with Retry-After and JSON-RPC -32029 with data.retryAfterSeconds.' },
);
export type ToolRateLimit = Static<typeof ToolRateLimit>;


export const AgentLimits = Type.Object(
  {
    requestTimeout: Duration({ default: '30s', description: 'Time a request may take upstream before it is cancelled.' }),
    maxConcurrentRequests: Type.Integer({ minimum: 1, default: 100, description: 'In-flight requests across all clients.' }),
    maxBodyBytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: 'Largest accepted request body.' }),
    perPrincipal: Type.Optional(PrincipalLimits),
    perTool: Type.Optional(Type.Array(ToolRateLimit, { description: 'Rate limits per tool and principal, besides perPrincipal.' })),
  },
  { description: 'Timeouts, concurrency, rate and size limits.', default: {} },
);
export type AgentLimits = Static<typeof AgentLimits>;


export const AgentAudit = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'One structured log line per policy decision.' }),
    includeArguments: Type.Boolean({ default: false, description: 'Log tool/prompt arguments (after redaction).' }),
    redactArguments: Type.Array(Type.String({ minLength: 1 }), {
      default: [...DEFAULT_REDACTED_ARGUMENTS],
      description: 'Argument names (case-insensitive, at any depth) whose values are replaced by "[REDACTED]".',
    }),
  },
  { description: 'Audit logging.', default: {} },
);
export type AgentAudit = Static<typeof AgentAudit>;

/** spec.session of an MCPServer: how the agent serves sessions (the agent's runtime settings of the same meaning). */
export const SessionSettings = Type.Object(
  {
    mode: Type.Optional(StringEnum(SESSION_MODES, { description: 'shared: one server process for all sessions (default); per-session: a process per session.' })),
    idleTimeout: Type.Optional(Duration({ description: 'A session idle this long ends (default 30m).' })),
    maxSessions: Type.Optional(Type.Integer({ minimum: 1, description: 'Client sessions allowed at once.' })),
    maxProcesses: Type.Optional(Type.Integer({ minimum: 1, description: 'per-session mode: server processes allowed at once.' })),
  },
  { description: 'Client sessions.' },
);
export type SessionSettings = Static<typeof SessionSettings>;

export const DEFAULT_APPROVAL_TIMEOUT = '2m';

export const Approval = Type.Object(
  {
    destructiveTools: Type.Boolean({
      default: true,
      description:
        'Ask before every tool the MCP annotations treat as destructive: readOnlyHint not true and destructiveHint not false (the specification\'s defaults, so a tool without annotations counts).',
    }),
    tools: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { 'x-kubernetes-list-type': 'set', description: 'Ask before these tools too, whatever their annotations.' }),
    ),
    timeout: Duration({ default: DEFAULT_APPROVAL_TIMEOUT, description: 'How long the person has to answer; then the call ends with a tool error.' }),
  },
  {
    description:
      'Human approval: a call to a selected tool is held while the agent asks the person through the client (elicitation), and reaches the server only when they accept.',
  },
);
export type Approval = Static<typeof Approval>;

/** Named deny patterns for argumentRules (agent/policy/arguments/presets.ts holds the expressions). */
export const ARGUMENT_PRESETS = ['shell', 'path-traversal', 'secrets'] as const;

export const ArgumentRule = Type.Object(
  {
    tool: Type.String({ minLength: 1, description: 'Tool name, or * for every tool.' }),
    argument: Type.String({ minLength: 1, description: 'Top-level argument name, or * for every argument; its string values are checked at any depth.' }),
    deny: Type.Optional(
      Type.Array(StringEnum(ARGUMENT_PRESETS), {
        'x-kubernetes-list-type': 'set',
        description: 'Built-in patterns: shell (shell metacharacters), path-traversal (.. path segments), secrets (private keys, cloud and chat tokens, JWTs).',
      }),
    ),
    denyPatterns: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { description: 'Regular expressions (JavaScript syntax); a value matching one is refused.' }),
    ),
    maxLength: Type.Optional(Type.Integer({ minimum: 1, description: 'Longest string value accepted, in characters.' })),
  },
  { description: 'Argument sanitization: checked before the call reaches the server; a refused call is JSON-RPC -32602 naming the tool, the argument and the rule, never the value.' },
);
export type ArgumentRule = Static<typeof ArgumentRule>;
