// Which tool calls need a person's approval (the gateway holds them and asks: mux/approval.ts):
// tools the server's annotations mark destructive — by the MCP specification's defaults, so a tool
// without annotations counts — and tools the config names. Only tools/call is ever held.
import type { AgentConfig } from '../../../api/agent-config.js';
import { durationToMs } from '../../../api/v1beta1/defaults.js';
import type { ApprovalAsk } from '../../core/approval.js';
import type { JsonRpcNotification, JsonRpcRequest } from '../../protocol/jsonrpc.js';
import { redact } from '../audit/index.js';

export class ApprovalRule {
  private readonly named: ReadonlySet<string>;
  private readonly redacted: ReadonlySet<string>;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: AgentConfig['approval'],
    redactArguments: readonly string[],
    /** The server's annotations of a tool (from its tools/list), undefined when it has none. */
    private readonly annotationsOf: (tool: string) => Readonly<Record<string, unknown>> | undefined,
  ) {
    this.named = new Set(config?.tools ?? []);
    this.redacted = new Set(redactArguments.map((n) => n.toLowerCase()));
    this.timeoutMs = config ? durationToMs(config.timeout) : 0;
  }

  get active(): boolean {
    return this.config !== undefined;
  }

  /** The approval a request needs, or undefined. */
  askFor(message: JsonRpcRequest | JsonRpcNotification): ApprovalAsk | undefined {
    if (this.config === undefined || message.method !== 'tools/call') return undefined;
    const params = (message.params ?? {}) as { name?: unknown; arguments?: unknown };
    if (typeof params.name !== 'string') return undefined;
    const reason = this.reasonFor(params.name);
    if (reason === undefined) return undefined;
    return { tool: params.name, reason, timeoutMs: this.timeoutMs, ...(params.arguments !== undefined ? { arguments: redact(params.arguments, this.redacted) } : {}) };
  }

  private reasonFor(tool: string): string | undefined {
    if (this.named.has(tool)) return "the server's approval rule names it";
    if (!this.config!.destructiveTools) return undefined;
    const a = this.annotationsOf(tool);
    if (a === undefined) return 'it has no annotations, and the MCP specification says to treat such a tool as destructive';
    if (a.readOnlyHint !== true && a.destructiveHint !== false) return a.destructiveHint === true ? 'the server marks it as destructive' : 'it is not marked read-only or non-destructive';
    return undefined;
  }
}
