import { asJsonRpcMessage, type JsonRpcMessage } from '../protocol/jsonrpc.js';

/**
 * Turns one line from a stdio-like server into a JSON-RPC message. Servers that print banners
 * or debug output on stdout are common; such lines are reported and skipped, never fatal.
 */
export function parseServerFrame(
  line: string,
  onmessage: ((m: JsonRpcMessage, raw?: string) => void) | undefined,
  onerror: ((e: Error) => void) | undefined,
): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    onerror?.(new Error(`server wrote a non-JSON line to stdout (ignored): ${truncate(line)}`));
    return;
  }
  const message = asJsonRpcMessage(value);
  if (typeof message === 'string') {
    onerror?.(new Error(`server wrote an invalid JSON-RPC message (ignored: ${message}): ${truncate(line)}`));
    return;
  }
  // The envelope check returns the parsed object itself unless it dropped members: then the line is still its text.
  onmessage?.(message, message === value ? line : undefined);
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
