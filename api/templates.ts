// The two template forms of the declarative kinds, parsed once here for both sides: the
// reconciler reports a bad template on the object's status, the agent renders good ones.
//   {name}   in URLs, paths and query values (RFC 6570 level 1): the value URL-encoded
//   {{name}} in prompt messages and request bodies: the value as text (prompts) or as JSON (bodies)

export type Part = string | { name: string };

export interface ParsedTemplate {
  parts: Part[];
  /** The placeholder names, in order of first use. */
  names: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `{name}` (double: false) or `{{name}}` (double: true) placeholders; throws naming the problem. */
export function parseTemplate(text: string, double: boolean): ParsedTemplate {
  const open = double ? '{{' : '{';
  const close = double ? '}}' : '}';
  const parts: Part[] = [];
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf(open, i);
    const stray = text.indexOf(close, i);
    if (stray !== -1 && (at === -1 || stray < at)) throw new Error(`unmatched "${close}" at ${stray}`);
    if (at === -1) {
      parts.push(text.slice(i));
      break;
    }
    if (at > i) parts.push(text.slice(i, at));
    const end = text.indexOf(close, at + open.length);
    if (end === -1) throw new Error(`unclosed "${open}" at ${at}`);
    const name = text.slice(at + open.length, end).trim();
    if (!NAME.test(name)) throw new Error(`placeholder ${JSON.stringify(text.slice(at, end + close.length))} is not a name`);
    parts.push({ name });
    if (!names.includes(name)) names.push(name);
    i = end + close.length;
  }
  return { parts, names };
}

/** Renders a parsed template; `value` turns each argument into its text (encoded as the place needs). */
export function render(t: ParsedTemplate, value: (name: string) => string): string {
  let out = '';
  for (const p of t.parts) out += typeof p === 'string' ? p : value(p.name);
  return out;
}

/**
 * Problems with a template whose placeholders must be among `known` (declared prompt arguments,
 * or the tool's inputSchema properties when it lists them): one message per problem, empty when fine.
 */
export function templateIssues(text: string, double: boolean, known: readonly string[] | undefined): string[] {
  let t: ParsedTemplate;
  try {
    t = parseTemplate(text, double);
  } catch (e) {
    return [(e as Error).message];
  }
  if (known === undefined) return [];
  return t.names.filter((n) => !known.includes(n)).map((n) => `{${double ? '{' : ''}${n}${double ? '}' : ''}} is not a declared argument (${known.length ? known.join(', ') : 'none declared'})`);
}
