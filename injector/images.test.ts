// The images and the injector must agree: the agent image carries busybox where the bridge init
// container looks for it, runs as the numeric user the webhook sets, and starts the bundle the
// build produces. (The images themselves are built by CI with docker; there is no daemon here.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUSYBOX_PATH, DEFAULT_RUN_AS_USER } from './mutation/index.js';

const read = (f: string) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');

describe('Dockerfiles', () => {
  const agent = read('Dockerfile.agent');
  const injector = read('Dockerfile.injector');
  const build = read('scripts/build.mjs');

  it('the agent image ships Debian busybox-static where the init container copies it from', () => {
    expect(agent).toMatch(/apt-get install -y --no-install-recommends busybox-static/);
    expect(agent).toContain(`COPY --from=busybox /bin/busybox ${DEFAULT_BUSYBOX_PATH}`);
  });

  it('both run as the numeric non-root user the webhook sets', () => {
    for (const f of [agent, injector]) expect(f).toMatch(new RegExp(`^USER ${DEFAULT_RUN_AS_USER}:${DEFAULT_RUN_AS_USER}$`, 'm'));
  });

  it('start the bundles scripts/build.mjs writes, on Node 24, multi-stage', () => {
    // Entry names agent (its launcher) and injector, written to dist/ (dist/agent.js, dist/injector.js + chunks).
    expect(build).toMatch(/\['agent', 'agent\/launch\.ts'\]/);
    expect(build).toMatch(/\['injector', 'injector\/main\.ts'\]/);
    expect(build).toContain("outdir: 'dist'");
    expect(agent).toContain('ENTRYPOINT ["node", "/app/dist/agent.js"]');
    expect(injector).toContain('ENTRYPOINT ["node", "/app/dist/injector.js"]');
    for (const f of [agent, injector]) {
      expect(f).toContain('ARG NODE_IMAGE=node:24-bookworm-slim');
      expect(f).toMatch(/npm ci --omit=dev/);
      expect(f).toMatch(/RUN npm run build/);
      expect(f).toContain('COPY --from=build /src/dist/ ./dist/');
    }
  });
});
