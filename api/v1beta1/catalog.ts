// Declarative tools, prompts and resources (ome.io/v1beta1 MCPTool, MCPPrompt, MCPResource): MCP
// features written as Kubernetes objects, selected by an MCPServer's label selectors and served
// by its agent beside (or, for `type: Catalog`, instead of) an MCP server's own. This file is the
// one source of the CRD schemas and of the shapes the agent serves (api/agent-catalog.ts reuses
// the parts both sides read alike).
import { Type, type Static } from 'typebox';
import { Condition, LabelSelector, TopLevelObject } from './core.js';
import { DURATION_PATTERN } from './operations.js';
import { cel, Int32, Int64, Opaque, StringEnum } from './schema.js';

/** MCP's tool-name rule (SEP-986): 1–128 of A–Z a–z 0–9 _ - . */
export const TOOL_NAME_PATTERN = '^[A-Za-z0-9_.-]{1,128}$';
const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });
const JsonSchemaDoc = (description: string) => Opaque<Record<string, unknown>>({ description });

// ---------------------------------------------------------------- shared parts

export const ToolAnnotations = Type.Object(
  {
    title: Type.Optional(Type.String()),
    readOnlyHint: Type.Optional(Type.Boolean({ description: 'The tool changes nothing (read-only mode serves it; with idempotentHint its results may be cached).' })),
    destructiveHint: Type.Optional(Type.Boolean({ description: 'The tool may destroy data (approval.destructiveTools asks a person first).' })),
    idempotentHint: Type.Optional(Type.Boolean({ description: 'Calling again with the same arguments has no further effect: failed calls may be retried.' })),
    openWorldHint: Type.Optional(Type.Boolean()),
  },
  { description: "MCP tool annotations, listed as the tool's own and read by policy (readOnly, approval, Cedar's resource.readOnly)." },
);
export type ToolAnnotations = Static<typeof ToolAnnotations>;

export const SERVICE_SCHEMES = ['http', 'https'] as const;

/** A Service in the object's namespace, or an in-cluster URL. */
export const HttpTarget = {
  service: Type.Optional(
    Type.Object(
      {
        name: Type.String({ minLength: 1, description: 'Service name (same namespace).' }),
        port: Int32({ minimum: 1, maximum: 65535, description: 'Service port.' }),
        scheme: Type.Optional(StringEnum(SERVICE_SCHEMES, { default: 'http', description: 'http or https.' })),
      },
      { description: 'A Service in the same namespace.' },
    ),
  ),
  url: Type.Optional(Type.String({ pattern: '^https?://.*', description: 'Base URL (in-cluster), instead of service.' })),
  path: Type.Optional(
    Type.String({ pattern: '^/.*', description: 'Path after the base, with {argument} placeholders (URL-encoded), e.g. /search/{query}.' }),
  ),
};

export const HeaderFromSecret = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", description: 'Header name.' }),
    value: Type.Optional(Type.String({ description: 'A literal value (nothing secret).' })),
    secretKeyRef: Type.Optional(
      Type.Object({ name: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { description: "A Secret key (the agent alone reads it; it never enters a ConfigMap or a log)." }),
    ),
    prefix: Type.Optional(Type.String({ description: 'Written before the value, e.g. "Bearer ".' })),
  },
  cel({ rule: 'has(self.value) != has(self.secretKeyRef)', message: 'set exactly one of value and secretKeyRef' }),
);
export type HeaderFromSecret = Static<typeof HeaderFromSecret>;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const QueryParam = Type.Object({
  name: Type.String({ minLength: 1 }),
  value: Type.String({ description: 'Template: {argument} placeholders.' }),
});

export const RESPONSE_MODES = ['auto', 'text', 'json'] as const;

export const PromptArgument = Type.Object({
  name: Type.String({ minLength: 1, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
  description: Type.Optional(Type.String()),
  required: Type.Optional(Type.Boolean({ default: false })),
  default: Type.Optional(Type.String({ description: 'Used when the client gives no value (then the argument is not required).' })),
});
export type PromptArgument = Static<typeof PromptArgument>;

export const PROMPT_ROLES = ['user', 'assistant'] as const;
export const PromptMessage = Type.Object({
  role: StringEnum(PROMPT_ROLES, { default: 'user' }),
  text: Type.String({ description: 'Template: {{argument}} placeholders.' }),
});
export type PromptMessage = Static<typeof PromptMessage>;

// ---------------------------------------------------------------- MCPTool

export const MCPToolSpec = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: TOOL_NAME_PATTERN, description: 'Tool name as clients see it (default: the object name).' })),
    title: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    inputSchema: Type.Optional(JsonSchemaDoc('JSON Schema of the arguments (default: an object with any members). Arguments are checked against it before the call.')),
    outputSchema: Type.Optional(JsonSchemaDoc('JSON Schema of the structured result (a JSON response becomes structuredContent).')),
    annotations: Type.Optional(ToolAnnotations),
    target: Type.Object(
      {
        ...HttpTarget,
        method: Type.Optional(StringEnum(HTTP_METHODS, { default: 'POST', description: 'HTTP method.' })),
        query: Type.Optional(
          Type.Array(QueryParam, { 'x-kubernetes-list-type': 'atomic', description: 'Query parameters. Unset on GET and DELETE: every argument not in the path.' }),
        ),
        bodyTemplate: Type.Optional(
          Type.String({
            description:
              'Request body with {{argument}} placeholders, each replaced by the argument as JSON (so `{"q": {{query}}}` stays valid JSON). Unset on POST, PUT and PATCH: the arguments not in the path or query, as a JSON object.',
          }),
        ),
        headers: Type.Optional(Type.Array(HeaderFromSecret, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
        timeout: Type.Optional(Duration('Time one call may take, retries included (default 30s).')),
        retries: Type.Optional(Int32({ minimum: 0, maximum: 5, description: 'Retries after a connection error or a 502/503/504; only for idempotentHint tools.' })),
        response: Type.Optional(
          StringEnum(RESPONSE_MODES, {
            default: 'auto',
            description: 'auto: a JSON response becomes structuredContent and text, anything else text; text; json (refuse non-JSON). A non-2xx status is a tool error either way.',
          }),
        ),
      },
      {
        description: 'The HTTP endpoint the tool calls.',
        ...cel({ rule: 'has(self.service) != has(self.url)', message: 'set exactly one of service and url' }),
      },
    ),
    cache: Type.Optional(
      Type.Object({ ttl: Duration('How long a result is served again to the same principal for the same arguments.') }, { description: 'Result caching (readOnlyHint and idempotentHint tools only).' }),
    ),
  },
  {
    description: 'A tool the agent serves by calling an HTTP endpoint.',
    ...cel(
      { rule: "!has(self.cache) || (has(self.annotations) && has(self.annotations.readOnlyHint) && self.annotations.readOnlyHint && has(self.annotations.idempotentHint) && self.annotations.idempotentHint)", message: 'cache needs annotations.readOnlyHint and annotations.idempotentHint' },
      { rule: "!has(self.target.retries) || self.target.retries == 0 || (has(self.annotations) && has(self.annotations.idempotentHint) && self.annotations.idempotentHint)", message: 'retries need annotations.idempotentHint' },
    ),
  },
);
export type MCPToolSpec = Static<typeof MCPToolSpec>;

// ---------------------------------------------------------------- MCPPrompt

export const MCPPromptSpec = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: TOOL_NAME_PATTERN, description: 'Prompt name (default: the object name).' })),
    title: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    arguments: Type.Optional(Type.Array(PromptArgument, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
    messages: Type.Optional(Type.Array(PromptMessage, { 'x-kubernetes-list-type': 'atomic', description: 'The messages, in order.' })),
    template: Type.Optional(Type.String({ description: 'One user message (shorthand for messages: [{role: user, text: …}]).' })),
  },
  {
    description: 'A prompt template: {{argument}} placeholders, each a declared argument.',
    ...cel({ rule: 'has(self.messages) != has(self.template)', message: 'set exactly one of messages and template' }),
  },
);
export type MCPPromptSpec = Static<typeof MCPPromptSpec>;

// ---------------------------------------------------------------- MCPResource

export const MCPResourceSpec = Type.Object(
  {
    uri: Type.Optional(Type.String({ minLength: 1, description: 'The resource URI, e.g. config://app/settings.' })),
    uriTemplate: Type.Optional(
      Type.String({ minLength: 1, description: 'An RFC 6570 URI template ({var} placeholders), listed as a resource template; only with http.' }),
    ),
    name: Type.Optional(Type.String({ description: 'Name (default: the object name).' })),
    title: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    mimeType: Type.Optional(Type.String({ default: 'text/plain' })),
    text: Type.Optional(Type.String({ description: 'Inline content.' })),
    configMapKeyRef: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { description: 'Content from a ConfigMap key (same namespace).' })),
    secretKeyRef: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { description: 'Content from a Secret key (same namespace; read by the agent alone).' })),
    http: Type.Optional(
      Type.Object(
        {
          ...HttpTarget,
          headers: Type.Optional(Type.Array(HeaderFromSecret, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
          timeout: Type.Optional(Duration('Time one read may take (default 30s).')),
        },
        { description: 'Content from an HTTP GET (in-cluster); the path may use the uriTemplate variables.', ...cel({ rule: 'has(self.service) != has(self.url)', message: 'set exactly one of service and url' }) },
      ),
    ),
  },
  {
    description: 'A resource the agent serves; clients subscribed to it are told when its content changes (inline, ConfigMap and Secret sources).',
    ...cel(
      { rule: 'has(self.uri) != has(self.uriTemplate)', message: 'set exactly one of uri and uriTemplate' },
      { rule: '(has(self.text) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) + (has(self.secretKeyRef) ? 1 : 0) + (has(self.http) ? 1 : 0) == 1', message: 'set exactly one of text, configMapKeyRef, secretKeyRef and http' },
      { rule: '!has(self.uriTemplate) || has(self.http)', message: 'a uriTemplate needs http content' },
    ),
  },
);
export type MCPResourceSpec = Static<typeof MCPResourceSpec>;

// ---------------------------------------------------------------- status (one shape for the three kinds)

export const CatalogServerRef = Type.Object({
  kind: Type.String(),
  namespace: Type.Optional(Type.String()),
  name: Type.String(),
});
export type CatalogServerRef = Static<typeof CatalogServerRef>;

export const CatalogItemStatus = Type.Object(
  {
    conditions: Type.Optional(
      Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], description: 'Valid (the spec can be served; else why not) and Served (some server serves it).' }),
    ),
    servers: Type.Optional(Type.Array(CatalogServerRef, { 'x-kubernetes-list-type': 'atomic', description: 'The servers whose selectors match this object and that serve it.' })),
    observedGeneration: Type.Optional(Int64()),
  },
  { description: 'Observed state of a declarative object.' },
);
export type CatalogItemStatus = Static<typeof CatalogItemStatus>;

export const MCPTool = TopLevelObject(MCPToolSpec, CatalogItemStatus, { description: 'MCPTool declares a tool backed by an HTTP endpoint, served by the MCPServers that select it.' });
export type MCPTool = Static<typeof MCPTool>;
export const MCPPrompt = TopLevelObject(MCPPromptSpec, CatalogItemStatus, { description: 'MCPPrompt declares a prompt template, served by the MCPServers that select it.' });
export type MCPPrompt = Static<typeof MCPPrompt>;
export const MCPResource = TopLevelObject(MCPResourceSpec, CatalogItemStatus, { description: 'MCPResource declares a resource (inline, ConfigMap, Secret or HTTP content), served by the MCPServers that select it.' });
export type MCPResource = Static<typeof MCPResource>;
export type CatalogObject = MCPTool | MCPPrompt | MCPResource;

export const CATALOG_KINDS = {
  MCPTool: { plural: 'mcptools', singular: 'mcptool', shortNames: ['mcpt'], schema: MCPTool },
  MCPPrompt: { plural: 'mcpprompts', singular: 'mcpprompt', shortNames: ['mcpp'], schema: MCPPrompt },
  MCPResource: { plural: 'mcpresources', singular: 'mcpresource', shortNames: ['mcpr'], schema: MCPResource },
} as const;
export type CatalogKind = keyof typeof CATALOG_KINDS;

/** How an MCPServer picks its declarative objects (its own namespace; a ClusterMCPServer: the operator namespace). */
export const CatalogSelectors = {
  toolSelector: Type.Optional({ ...LabelSelector, description: 'MCPTools served by this server (and, unless set themselves, the MCPPrompts and MCPResources).' }),
  promptSelector: Type.Optional({ ...LabelSelector, description: 'MCPPrompts served by this server (default: toolSelector).' }),
  resourceSelector: Type.Optional({ ...LabelSelector, description: 'MCPResources served by this server (default: toolSelector).' }),
};
