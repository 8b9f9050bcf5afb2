// Human approval, as the policy asks for it and the gateway carries it out: which call needs a
// person's yes (the policy's rule, agent/policy/index.ts) and what they answered (mux/approval.ts).

/** A held call the person must approve. */
export interface ApprovalAsk {
  tool: string;
  /** Why this tool needs approval, in words for the person. */
  reason: string;
  timeoutMs: number;
  /** The call's arguments, redacted like audit lines, shown to the person. */
  arguments?: unknown;
}

/**
 * What came of it. `accept` alone forwards the call; `unsupported`: the client cannot ask (no
 * elicitation capability); `abandoned`: the client cancelled the call or the session ended.
 */
export type ApprovalOutcome = 'accept' | 'decline' | 'cancel' | 'timeout' | 'unsupported' | 'abandoned';
