// Writes manifests/crds/*.yaml from the typebox API types: `npx tsx scripts/gen-crds.ts`.
// `--check` exits 1 when the checked-in files differ (CI), without writing.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCRDs, renderCRD } from '../api/crds.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'manifests', 'crds');
const checkOnly = process.argv.includes('--check');
let stale = 0;
mkdirSync(outDir, { recursive: true });
for (const { file, object } of generateCRDs()) {
  const path = join(outDir, file);
  const text = renderCRD(object);
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    /* missing */
  }
  if (current === text) continue;
  stale++;
  if (checkOnly) console.error(`${path} is out of date; run: npx tsx scripts/gen-crds.ts`);
  else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
if (checkOnly && stale > 0) process.exit(1);
