/**
 * `x-mcp-header` (SEP-2243): a tool may ask clients to mirror some arguments into
 * `Mcp-Param-{Name}` headers; anything that processes the body must check they agree with it.
 * The agent learns the declarations from the `tools/list` results it passes to 2026-07-28
 * clients (a conforming client lists before it calls, to learn them itself).
 */
import { decodeHeaderValue } from './meta.js';

export interface ParamHeader {
  /** Lower-cased full header name, e.g. `mcp-param-region`. */
  header: string;
  /** Display name as declared (`Mcp-Param-Region`). */
  display: string;
  path: string[];
  type: 'string' | 'integer' | 'boolean';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The declarations of one input schema; undefined when there are none or they are invalid (clients drop such tools). */
export function scanParamHeaders(schema: unknown): ParamHeader[] | undefined {
  const out: ParamHeader[] = [];
  const seen = new Set<string>();
  let valid = true;
  const visit = (node: unknown, path: string[]): void => {
    if (node === null || typeof node !== 'object') return;
    const s = node as Record<string, unknown>;
    const name = s['x-mcp-header'];
    if (name !== undefined) {
      const type = s.type;
      if (path.length === 0 || typeof name !== 'string' || !TOKEN.test(name) || (type !== 'string' && type !== 'integer' && type !== 'boolean') || seen.has(name.toLowerCase())) {
        valid = false;
        return;
      }
      seen.add(name.toLowerCase());
      out.push({ header: `mcp-param-${name.toLowerCase()}`, display: `Mcp-Param-${name}`, path, type });
    }
    const properties = s.properties;
    if (properties !== null && typeof properties === 'object') {
      for (const [key, child] of Object.entries(properties as Record<string, unknown>)) visit(child, [...path, key]);
    }
  };
  visit(schema, []);
  return valid && out.length > 0 ? out : undefined;
}

/** Why the headers disagree with the arguments, or undefined when they agree. */
export function checkParamHeaders(declared: readonly ParamHeader[], args: unknown, header: (name: string) => string | undefined): string | undefined {
  for (const d of declared) {
    let value: unknown = args;
    for (const key of d.path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const raw = header(d.header);
    if (value === undefined || value === null) continue; // the client omits the header; nothing to compare
    if (raw === undefined) return `required header ${d.display} is missing`;
    const decoded = decodeHeaderValue(raw);
    const agrees =
      decoded !== undefined &&
      (d.type === 'integer' ? decoded.trim() !== '' && Number(decoded) === value : d.type === 'boolean' ? decoded === String(value) : decoded === value);
    if (!agrees) return `${d.display} header value '${raw}' does not match body value '${String(value)}'`;
  }
  return undefined;
}
