// The declarative tools, prompts and resources as the agent serves them (agent config `catalog`):
// what the reconciler writes from the MCPTool / MCPPrompt / MCPResource objects a server selects,
// with every reference resolved — a Service to its URL, a ConfigMap key to its text, a Secret key
// to a file in the agent's own mount (a Secret value never enters the config). Locally, write it
// by hand in the agent config file.
import { Type, type Static } from 'typebox';
import {
  HTTP_METHODS,
  PromptArgument,
  PromptMessage,
  QueryParam,
  RESPONSE_MODES,
  TOOL_NAME_PATTERN,
  ToolAnnotations,
} from './v1beta1/catalog.js';
import { DURATION_PATTERN } from './v1beta1/operations.js';
import { StringEnum } from './v1beta1/schema.js';

const Duration = (description: string) => Type.Optional(Type.String({ pattern: DURATION_PATTERN, description }));
const Source = Type.Optional(Type.String({ description: 'The object it came from (namespace/name), for logs and errors.' }));

export const CatalogHeader = Type.Object({
  name: Type.String({ minLength: 1 }),
  value: Type.Optional(Type.String({ description: 'A literal value.' })),
  file: Type.Optional(Type.String({ minLength: 1, description: 'A file holding the value (a mounted Secret key), read at each call.' })),
  prefix: Type.Optional(Type.String()),
});
export type CatalogHeader = Static<typeof CatalogHeader>;

export const CatalogTool = Type.Object({
  name: Type.String({ pattern: TOOL_NAME_PATTERN }),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  inputSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  outputSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  annotations: Type.Optional(ToolAnnotations),
  http: Type.Object({
    url: Type.String({ pattern: '^https?://.*', description: 'The full URL: base and path, with {argument} placeholders.' }),
    method: StringEnum(HTTP_METHODS, { default: 'POST' }),
    query: Type.Optional(Type.Array(QueryParam)),
    bodyTemplate: Type.Optional(Type.String()),
    headers: Type.Optional(Type.Array(CatalogHeader)),
    timeout: Duration('Time one call may take, retries included (default 30s).'),
    retries: Type.Integer({ minimum: 0, maximum: 5, default: 0 }),
    response: StringEnum(RESPONSE_MODES, { default: 'auto' }),
  }),
  cacheTtl: Duration('Results served again to the same principal for the same arguments this long.'),
  source: Source,
});
export type CatalogTool = Static<typeof CatalogTool>;

export const CatalogPrompt = Type.Object({
  name: Type.String({ pattern: TOOL_NAME_PATTERN }),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  arguments: Type.Optional(Type.Array(PromptArgument)),
  messages: Type.Array(PromptMessage, { minItems: 1 }),
  source: Source,
});
export type CatalogPrompt = Static<typeof CatalogPrompt>;

export const CatalogResource = Type.Object({
  uri: Type.Optional(Type.String({ minLength: 1 })),
  uriTemplate: Type.Optional(Type.String({ minLength: 1 })),
  name: Type.String({ minLength: 1 }),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  mimeType: Type.String({ default: 'text/plain' }),
  text: Type.Optional(Type.String()),
  file: Type.Optional(Type.String({ minLength: 1, description: 'Content from a file (a mounted Secret key); watched, so subscribers hear of changes.' })),
  http: Type.Optional(
    Type.Object({
      url: Type.String({ pattern: '^https?://.*', description: 'The full URL, with the uriTemplate variables as {var}.' }),
      headers: Type.Optional(Type.Array(CatalogHeader)),
      timeout: Duration('Time one read may take (default 30s).'),
    }),
  ),
  source: Source,
});
export type CatalogResource = Static<typeof CatalogResource>;

export const AgentCatalog = Type.Object(
  {
    tools: Type.Optional(Type.Array(CatalogTool)),
    prompts: Type.Optional(Type.Array(CatalogPrompt)),
    resources: Type.Optional(Type.Array(CatalogResource)),
  },
  {
    description:
      "Tools, prompts and resources the agent serves itself, beside the server's own (a declared name wins over the server's) or alone (--catalog-only). Applied in place when the config file changes; clients get list_changed.",
  },
);
export type AgentCatalog = Static<typeof AgentCatalog>;
