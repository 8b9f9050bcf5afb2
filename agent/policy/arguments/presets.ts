// The built-in deny patterns of argumentRules (names in api/v1beta1/operations.ts ARGUMENT_PRESETS).
import type { ARGUMENT_PRESETS } from '../../../api/v1beta1/operations.js';

export const PRESETS: Record<(typeof ARGUMENT_PRESETS)[number], { pattern: RegExp; what: string }> = {
  // What a shell gives meaning to: command separators, pipes, substitution, redirection, newlines.
  shell: { pattern: /[;&|`$<>\n\r]|\\\n/, what: 'shell metacharacters' },
  'path-traversal': { pattern: /(^|[\\/])\.\.([\\/]|$)/, what: 'a ".." path segment' },
  secrets: {
    pattern:
      /-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+|\bsk-[A-Za-z0-9_-]{20,}/,
    what: 'something that looks like a secret (a private key, a cloud or chat token, a JWT)',
  },
};
