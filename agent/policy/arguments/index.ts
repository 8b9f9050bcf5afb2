// Argument sanitization: rules per tool and argument, checked before a call reaches the server.
// A refusal names the tool, the argument and the rule — never the value, which may be the very
// secret the rule caught. Patterns are the operator's (config, validated at load); values are
// bounded by the request body limit.
import type { ArgumentRule } from '../../../api/v1beta1/operations.js';
import { Refusals, type Refusal } from '../types.js';
import { PRESETS } from './presets.js';

interface Compiled {
  tool: string;
  argument: string;
  maxLength?: number;
  patterns: { pattern: RegExp; what: string }[];
}

const MAX_DEPTH = 16;

export class ArgumentRules {
  private readonly rules: Compiled[];

  constructor(rules: readonly ArgumentRule[]) {
    this.rules = rules.map((r) => ({
      tool: r.tool,
      argument: r.argument,
      maxLength: r.maxLength,
      patterns: [
        ...(r.deny ?? []).map((p) => PRESETS[p]),
        ...(r.denyPatterns ?? []).map((p) => ({ pattern: new RegExp(p), what: `the pattern /${p}/` })),
      ],
    }));
  }

  /** null when every rule that applies to `tool` passes. */
  check(tool: string, args: Record<string, unknown> | undefined): Refusal | null {
    if (args === undefined) return null;
    for (const rule of this.rules) {
      if (rule.tool !== '*' && rule.tool !== tool) continue;
      for (const [name, value] of Object.entries(args)) {
        if (rule.argument !== '*' && rule.argument !== name) continue;
        const why = violation(rule, value, 0);
        if (why) return Refusals.invalidParams(`tools/call: argument "${name}" of tool "${tool}" was refused: ${why}`);
      }
    }
    return null;
  }
}

function violation(rule: Compiled, value: unknown, depth: number): string | undefined {
  if (typeof value === 'string') {
    if (rule.maxLength !== undefined && value.length > rule.maxLength) return `longer than ${rule.maxLength} characters`;
    for (const p of rule.patterns) if (p.pattern.test(value)) return `it contains ${p.what}`;
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    const why = violation(rule, v, depth + 1);
    if (why) return why;
  }
  return undefined;
}
