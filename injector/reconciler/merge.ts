// Merges a user's podTemplateSpec over the generated pod template: objects merge key by key,
// lists of named items (containers, initContainers, volumes, env, volumeMounts, ports, …) merge
// by `name`, other lists and scalars are replaced by the user's value.

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const named = (v: unknown[]): v is Array<Json & { name: string }> => v.every((x) => isObj(x) && typeof x.name === 'string');

export function mergeByName(base: unknown[], over: unknown[]): unknown[] {
  if (!named(base) || !named(over)) return structuredClone(over);
  const out = base.map((b) => structuredClone(b) as Json);
  for (const o of over) {
    const i = out.findIndex((b) => b.name === o.name);
    if (i >= 0) out[i] = deepMerge(out[i], o) as Json;
    else out.push(structuredClone(o));
  }
  return out;
}

export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return structuredClone(base);
  if (isObj(base) && isObj(over)) {
    const out: Json = structuredClone(base);
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) return mergeByName(base, over);
  return structuredClone(over);
}
