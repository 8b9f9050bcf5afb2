// Bundles the two binaries with esbuild so they start fast (dist/agent.js, dist/injector.js and
// their shared chunks under dist/chunks/; no TypeScript at runtime).
// Native or wasm-loading packages stay external and are resolved from node_modules, and so does
// pino-pretty (only for a terminal). pino itself is bundled (resolving its ~20 files at start cost
// ~25 ms on Node 24); the agent uses no pino transport, whose worker files a bundle lacks.
import { existsSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const external = ['node-pty', '@cedar-policy/cedar-wasm', 'pino-pretty', '@kubernetes/client-node'];
// On Node 24 an ESM import of node:http (or https) builds the module's namespace, which reads its
// lazy WebSocket/fetch exports and so loads undici (~35 ms, ~14 MB of RSS) into every process; a
// CommonJS require reads nothing. So the bundle takes these two through the banner's `require`.
const requireBuiltins = {
  name: 'require-http-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
      args.namespace === 'required-builtin' ? { path: `node:${args.path.replace(/^node:/, '')}`, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'required-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'required-builtin' }, (args) => ({ contents: `module.exports = require('node:${args.path}');`, loader: 'js' }));
  },
};
const common = {
  plugins: [requireBuiltins],
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
// Chunk names carry content hashes: old ones would pile up (and be copied into the images).
rmSync('dist/chunks', { recursive: true, force: true });
await build({ ...common, entryPoints, outdir: 'dist', splitting: true, chunkNames: 'chunks/[name]-[hash]' });
