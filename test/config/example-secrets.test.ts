// The change-me secrets of the examples: refused when the listener is reachable from other
// machines (a configuration error, as at start and in `validate`, naming file, line and key),
// a warning on loopback, nothing once real secrets are set.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/config/example-secrets.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';
import { REPO } from './helpers.js';

const SHIPPED = {
  config: path.join(REPO, 'config/incidentd.yaml'),
  probesDir: path.join(REPO, 'probes'),
  rulesDir: path.join(REPO, 'rules'),
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incidentd-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(paths: typeof SHIPPED, env: NodeJS.ProcessEnv): Promise<string[]> {
  const err = await loadConfig(paths, env).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues.map((i) => formatIssue(i).split(`${REPO}${path.sep}`).join('').split(`${dir}${path.sep}`).join(''));
}

function own(yaml: string) {
  writeFileSync(path.join(dir, 'incidentd.yaml'), yaml);
  return { ...SHIPPED, config: path.join(dir, 'incidentd.yaml') };
}

describe('example secrets', () => {
  it('the shipped config on 0.0.0.0 (the Docker image) is refused, every example secret named by file, line and key', async () => {
    const lines = await refusal(SHIPPED, { INCIDENTD_LISTEN_HOST: '0.0.0.0' });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^config\/incidentd\.yaml:\d+:\d+: api\.tokens\[0\]\.token is an example secret \(it contains "change-me"\), and listen\.host is 0\.0\.0\.0, reachable from other machines/);
    expect(lines.map((l) => /: ([a-z_.[\]0-9]+) is an example secret/.exec(l)?.[1])).toEqual([
      'api.tokens[0].token',
      'sources[0].tokens[0]',
      'sources[1].tokens[0]',
      'sources[2].routing_keys[0]',
    ]);
    // The line is the one that sets the token.
    const [, line] = /^config\/incidentd\.yaml:(\d+):/.exec(lines[0]!)!;
    expect(lines[0]).toContain('Set a secret of your own');
    expect(Number(line)).toBeGreaterThan(1);
  });

  it('with secrets of its own in the environment the same config loads on 0.0.0.0, without warnings', async () => {
    const loaded = await loadConfig(SHIPPED, {
      INCIDENTD_LISTEN_HOST: '0.0.0.0',
      INCIDENTD_API_TOKEN: 'a-token-of-my-own-7f3a',
      INCIDENTD_ALERTMANAGER_TOKEN: 'am-token-of-my-own-91c2',
      INCIDENTD_WEBHOOK_TOKEN: 'hook-token-of-my-own-0b4e',
      INCIDENTD_PAGERDUTY_ROUTING_KEY: 'R0123456789abcdef0123456789abcde',
    });
    expect(loaded.daemon.listen.host).toBe('0.0.0.0');
    expect(loaded.warnings).toEqual([]);
  });

  it('on loopback the shipped config loads, with one warning per example secret', async () => {
    const loaded = await loadConfig(SHIPPED, {});
    const lines = loaded.warnings.map((w) => formatIssue(w).split(`${REPO}${path.sep}`).join(''));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^config\/incidentd\.yaml:\d+:\d+: api\.tokens\[0\]\.token is an example secret .*listen\.host is 127\.0\.0\.1 \(loopback\)/);
  });

  it('no api.tokens at all means the default "change-me": refused on :: as well', async () => {
    const lines = await refusal(own('listen: { host: "::", port: 9740 }\n'), {});
    expect(lines).toEqual([expect.stringMatching(/^incidentd\.yaml:1:1: api\.tokens is not set, so the API token is the default "change-me", and listen\.host is ::, reachable/)]);
    // INCIDENTD_API_TOKEN is that default's source.
    await expect(loadConfig(own('listen: { host: "::", port: 9740 }\n'), { INCIDENTD_API_TOKEN: 'mine-5d2c9e' })).resolves.toBeTruthy();
  });

  it('an enabled trap receiver on another address refuses an example community; a disabled one does not care', async () => {
    const config = `listen: { host: 127.0.0.1, port: 9740 }
api: { tokens: [ { name: admin, token: "not-an-example-4f1d" } ] }
snmp_traps:
  enabled: ENABLED
  host: 0.0.0.0
  communities: [public-ok, Change-Me-Community]
`;
    const lines = await refusal(own(config.replace('ENABLED', 'true')), {});
    expect(lines).toEqual([expect.stringMatching(/^incidentd\.yaml:6:\d+: snmp_traps\.communities\[1\] is an example secret .*snmp_traps\.host is 0\.0\.0\.0/)]);
    const loaded = await loadConfig(own(config.replace('ENABLED', 'false')), {});
    expect(loaded.warnings).toEqual([]);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.0.2.10', '2001:db8::1', 'incidentd.example.invalid', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
