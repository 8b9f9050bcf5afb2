// The egress proxy's settings as flags, env and the config file's `egress` section.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOptions } from './options.js';

const cmd = ['--', 'node', 'server.js'];

describe('egress options', () => {
  it('none without a port; flags and env set it', async () => {
    expect((await parseOptions(cmd, {})).egress).toBeUndefined();
    expect((await parseOptions(['--egress-port', '3128', '--egress-allow-host', 'api.github.com, .example.com', '--egress-allow-port', '443', ...cmd], {})).egress).toEqual({
      port: 3128,
      allowHost: ['api.github.com', '.example.com'],
      allowPort: [443],
    });
    expect((await parseOptions(cmd, { OME_MCP_EGRESS_PORT: '0' })).egress).toEqual({ port: 0, allowHost: [], allowPort: [] });
  });

  it("reads the config file's egress section; a flag overrides it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-opts-'));
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ egress: { port: 3128, allowHost: ['10.0.0.0/8'], allowPort: [5432] } }));
    expect((await parseOptions(['--config', file, ...cmd], {})).egress).toEqual({ port: 3128, allowHost: ['10.0.0.0/8'], allowPort: [5432] });
    expect((await parseOptions(['--config', file, '--egress-allow-port', '5433', ...cmd], {})).egress?.allowPort).toEqual([5433]);
    writeFileSync(file, JSON.stringify({ egress: { port: 3128, allowHost: ['https://x'], allowPort: [] } }));
    await expect(parseOptions(['--config', file, ...cmd], {})).rejects.toThrow(/egress\.allowHost\[0\]: "https:\/\/x" is neither/);
  });

  it('refuses bad values with the flag named', async () => {
    await expect(parseOptions(['--egress-allow-host', 'a.com', ...cmd], {})).rejects.toThrow(/need --egress-port/);
    await expect(parseOptions(['--egress-port', 'x', ...cmd], {})).rejects.toThrow(/--egress-port must be a port/);
    await expect(parseOptions(['--egress-port', '1', '--egress-allow-port', '70000', ...cmd], {})).rejects.toThrow(/--egress-allow-port: 70000 is not a port/);
    await expect(parseOptions(['--egress-port', '1', '--egress-allow-host', 'a b', ...cmd], {})).rejects.toThrow(/--egress-allow-host\[0\]: "a b" is neither/);
  });
});
