// Small helpers that keep typebox definitions inside the subset of JSON Schema that
// Kubernetes accepts as a *structural* schema (every node typed, no anyOf with types,
// no `additionalProperties` beside `properties`), while still giving precise TS types.
import { Type, type TSchema, type TUnsafe } from 'typebox';

/** A CEL validation rule, rendered as an `x-kubernetes-validations` entry. */
export interface CelRule {
  rule: string;
  message: string;
  /** Optional JSONPath of the field the message is about (e.g. `.image`). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** `x-kubernetes-validations` option for a schema node. */
export function cel(...rules: CelRule[]): { 'x-kubernetes-validations': CelRule[] } {
  return { 'x-kubernetes-validations': rules };
}

/** A string enum as `{type: string, enum: [...]}` (structural) with a literal-union static type. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** int32 integer (`format: int32` is what the API server expects for int32 Go fields). */
export function Int32(options: Record<string, unknown> = {}) {
  return Type.Integer({ format: 'int32', ...options });
}

/** int64 integer. */
export function Int64(options: Record<string, unknown> = {}) {
  return Type.Integer({ format: 'int64', ...options });
}

/** Kubernetes resource.Quantity: int-or-string matching the quantity grammar. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

export function Quantity() {
  return Type.Unsafe<string | number>({
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    'x-kubernetes-int-or-string': true,
  });
}

/**
 * An object whose contents the API server keeps as-is (`x-kubernetes-preserve-unknown-fields`).
 * Used for large core/v1 types (Affinity, Volume, PodTemplateSpec) whose full schema belongs to
 * Kubernetes itself; the static type comes from @kubernetes/client-node.
 */
export function Opaque<T>(options: Record<string, unknown> = {}, extra: Partial<Record<string, TSchema>> = {}) {
  const hasProps = Object.keys(extra).length > 0;
  return Type.Unsafe<T>({
    ...options,
    type: 'object',
    ...(hasProps ? { properties: extra } : {}),
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

/**
 * `schema` without its own `default`. An object whose fields have defaults is defaulted as a whole
 * (`default: {}`) where the agent reads it, but a CRD may not: the API server checks a default
 * against the schema before the nested defaults apply, and `{}` lacks the required fields. In an
 * MCPServer the object stays optional and its fields are defaulted once it is given.
 */
export function withoutDefault<T extends TSchema>(schema: T): T {
  const { default: _default, ...rest } = schema as T & { default?: unknown };
  return rest as T;
}
