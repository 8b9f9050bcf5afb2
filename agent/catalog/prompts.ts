// A declared prompt: its listing, and prompts/get — defaults applied, required arguments checked,
// the {{argument}} placeholders of each message filled in.
import type { CatalogPrompt } from '../../api/agent-catalog.js';
import { parseTemplate, render, type ParsedTemplate } from '../../api/templates.js';

export class DeclaredPrompt {
  readonly name: string;
  readonly listing: Record<string, unknown>;
  private readonly messages: Array<{ role: string; text: ParsedTemplate }>;

  constructor(private readonly spec: CatalogPrompt) {
    this.name = spec.name;
    this.listing = {
      name: spec.name,
      ...(spec.title !== undefined ? { title: spec.title } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      arguments: (spec.arguments ?? []).map((a) => ({
        name: a.name,
        ...(a.description !== undefined ? { description: a.description } : {}),
        required: a.required === true && a.default === undefined,
      })),
    };
    // Checked by catalogIssues before a catalog is accepted: these parse.
    this.messages = spec.messages.map((m) => ({ role: m.role, text: parseTemplate(m.text, true) }));
  }

  get source(): string | undefined {
    return this.spec.source;
  }

  /** The result, or the message of an invalid-params error. */
  get(args: Record<string, unknown> | undefined): Record<string, unknown> | string {
    const values: Record<string, string> = {};
    for (const a of this.spec.arguments ?? []) {
      const given = args?.[a.name];
      if (given !== undefined && given !== null) values[a.name] = String(given);
      else if (a.default !== undefined) values[a.name] = a.default;
      else if (a.required) return `prompt ${this.name}: argument "${a.name}" is required`;
      else values[a.name] = '';
    }
    return {
      ...(this.spec.description !== undefined ? { description: this.spec.description } : {}),
      messages: this.messages.map((m) => ({ role: m.role, content: { type: 'text', text: render(m.text, (n) => values[n] ?? '') } })),
    };
  }
}
