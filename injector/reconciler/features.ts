// Feature gates, `--feature-gates=MCPServerSupport=true,Other=false` style or as an object.
import { FEATURE_GATE_MCP_SERVER_SUPPORT } from '../../api/annotations.js';

export type FeatureGates = Record<string, boolean>;

/**
 * Defaults: MCPServerSupport is on — the API is v1beta1, and OEP-0005 turns the gate on by
 * default at beta. Operators who only want the webhook set MCPServerSupport=false.
 */
export const DEFAULT_FEATURE_GATES: FeatureGates = { [FEATURE_GATE_MCP_SERVER_SUPPORT]: true };

export function parseFeatureGates(input: string | FeatureGates | undefined): FeatureGates {
  const out: FeatureGates = { ...DEFAULT_FEATURE_GATES };
  if (input === undefined) return out;
  if (typeof input !== 'string') return { ...out, ...input };
  for (const part of input.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9]+)=(true|false)$/i.exec(part);
    if (!m) throw new Error(`invalid feature gate ${JSON.stringify(part)}: want Name=true|false`);
    out[m[1]!] = m[2]!.toLowerCase() === 'true';
  }
  return out;
}
