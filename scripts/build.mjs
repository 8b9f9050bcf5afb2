// Bundles the two binaries with esbuild so they start fast (dist/agent.js, dist/injector.js and
// their shared chunks under dist/chunks/; no TypeScript at runtime).
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
// One build with code splitting: code only some runs need (the SDK's HTTP client transports
// for HTTP upstreams) lands in a chunk loaded on demand, so a stdio agent starts sooner.
const entryPoints = Object.fromEntries(
  [
    ['agent', 'agent/launch.ts'],
    ['injector', 'injector/main.ts'],
  ].filter(([, entry]) => existsSync(entry)),
);
await build({ ...common, entryPoints, outdir: 'dist', splitting: true, chunkNames: 'chunks/[name]-[hash]' });
