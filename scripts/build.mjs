// Bundles the two binaries with esbuild so they start fast (one file each, no TS at runtime).
// Native or wasm-loading packages stay external and are resolved from node_modules.
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

const external = ['node-pty', '@cedar-policy/cedar-wasm', 'pino', 'pino-pretty', 'thread-stream', '@kubernetes/client-node'];
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external,
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};
const entries = [
  ['agent/main.ts', 'dist/agent.js'],
  ['injector/main.ts', 'dist/injector.js'],
];
await Promise.all(
  entries.filter(([entry]) => existsSync(entry)).map(([entry, outfile]) => build({ ...common, entryPoints: [entry], outfile })),
);
