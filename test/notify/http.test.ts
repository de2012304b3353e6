// The TLS settings the helpdesk ticket channels share (http.ts: tlsFields, channelTls): how a
// ca_file is read and checked when a channel is built, what tls_skip_verify and a wrong CA do, and
// that the config loader resolves ca_file against the config file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import { ChannelConfigError, type Channel } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { event, T0 } from './fixtures.js';
import { testCa, vendorServer, type TestCa } from './vendor-server.js';

let ca: TestCa;
let other: TestCa;
let dir: string;
beforeAll(() => {
  ca = testCa();
  other = testCa();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-http-tls-'));
});
afterAll(() => {
  ca.remove();
  other.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** One config per ticket channel kind, each pointing at `url`. */
function configs(url: string, tls: Record<string, unknown>): ChannelConfig[] {
  return [
    { id: 'snow', type: 'servicenow', instance_url: url, token: 'oauth-token', timeout: '2s', ...tls },
    { id: 'desk', type: 'zammad', url, token: 'zammad-token', group: 'Users', customer: 'noc@example.org', timeout: '2s', ...tls },
    { id: 'jsm', type: 'jira', url, token: 'pat', service_desk_id: 4, request_type_id: 25, timeout: '2s', ...tls },
  ] as unknown as ChannelConfig[];
}

function build(config: ChannelConfig): Channel {
  const ch = createChannel(config, { clock: new FakeClock(T0), logger: silentLogger() });
  cleanup.push(async () => ch.close?.());
  return ch;
}

/** What a channel's constructor throws, or undefined. */
function buildError(config: ChannelConfig): unknown {
  try {
    build(config);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('ca_file of the ticket channels', () => {
  it('is read when the channel is built: a missing file is a ChannelConfigError naming the channel and the file', () => {
    const missing = path.join(dir, 'no-such-ca.pem');
    for (const config of configs('https://helpdesk.example.invalid', { ca_file: missing })) {
      const err = buildError(config);
      expect(err, config.type).toBeInstanceOf(ChannelConfigError);
      expect((err as Error).message).toBe(`channel "${config.id}": ca_file ${missing} does not exist`);
    }
  });

  it('must hold a PEM certificate: a key or a mangled certificate is refused when the channel is built', () => {
    const keyOnly = path.join(dir, 'key-not-cert.pem');
    fs.writeFileSync(keyOnly, ca.tls.key);
    const mangled = path.join(dir, 'mangled.pem');
    fs.writeFileSync(mangled, `${ca.tls.cert}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`);
    const [snow] = configs('https://helpdesk.example.invalid', {});
    expect((buildError({ ...snow!, ca_file: keyOnly } as ChannelConfig) as Error).message).toBe(
      `channel "snow": ca_file ${keyOnly} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    expect((buildError({ ...snow!, ca_file: mangled } as ChannelConfig) as Error).message).toBe(
      `channel "snow": ca_file ${mangled}: certificate 2 of 2 does not parse`,
    );
  });

  it('holding another CA than the one that signed the server: permanent, naming the file', async () => {
    const server = await vendorServer(() => ({ status: 200, body: { tickets: [], tickets_count: 0, assets: {} } }), { tls: ca.tls });
    cleanup.push(() => server.close());
    const [, desk] = configs(server.url, { ca_file: other.caFile });
    const result = await build(desk!).deliver(event('incident.opened'), new AbortController().signal);
    expect(result).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(
        new RegExp(`TLS certificate not accepted \\([A-Z_]+: .+\\); ca_file ${other.caFile.replace(/[.\\/]/g, '\\$&')} does not hold the CA that signed it; point ca_file at that CA's PEM file$`),
      ),
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe('tls_skip_verify of the ticket channels', () => {
  it('defaults to false and, when true, accepts a certificate no CA vouches for', async () => {
    const server = await vendorServer(() => ({ status: 200, body: { tickets: [], tickets_count: 0, assets: {} } }), { tls: ca.tls });
    cleanup.push(() => server.close());
    const [, desk] = configs(server.url, {});
    expect((await build(desk!).deliver(event('incident.opened'), new AbortController().signal)).outcome).toBe('permanent');
    // The search answers, the create does not (this server only knows search): the TLS part worked.
    const skipping = await build({ ...desk!, tls_skip_verify: true } as ChannelConfig).deliver(event('incident.opened'), new AbortController().signal);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/tickets/search', 'POST /api/v1/tickets']);
    expect(skipping).toEqual({ outcome: 'permanent', error: expect.stringMatching(/answered 200 without the ticket id and number/) });
  });
});

describe('TLS of the webhook channel', () => {
  it('refuses a receiver no CA vouches for, and trusts it with its ca_file', async () => {
    const server = await vendorServer(() => ({ status: 204, body: '' }), { tls: ca.tls });
    cleanup.push(() => server.close());
    const hook = (extra: Record<string, unknown>) =>
      build({ id: 'hook', type: 'webhook', url: `${server.url}/hook`, secret: 'shared-secret-of-the-hook', timeout: '2s', ...extra } as unknown as ChannelConfig);
    const refused = await hook({}).deliver(event('incident.opened'), new AbortController().signal);
    expect(refused).toEqual({ outcome: 'permanent', error: expect.stringMatching(/TLS certificate not accepted .*set the channel's ca_file/) });
    expect(server.requests).toHaveLength(0);
    const trusted = await hook({ ca_file: ca.caFile }).deliver(event('incident.opened'), new AbortController().signal);
    expect(trusted).toEqual({ outcome: 'ok' });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /hook']);
  });
});

describe('ca_file in config/incidentd.yaml', () => {
  it('is relative to the config file, for servicenow, zammad and jira channels', async () => {
    const root = fs.mkdtempSync(path.join(dir, 'config-'));
    fs.mkdirSync(path.join(root, 'etc', 'certs'), { recursive: true });
    fs.mkdirSync(path.join(root, 'probes'));
    fs.mkdirSync(path.join(root, 'rules'));
    // validate checks that each named CA file exists.
    for (const f of [path.join(root, 'etc', 'certs', 'internal-ca.pem'), path.join(root, 'ca.pem'), path.join(root, 'absolute.pem')]) fs.writeFileSync(f, '');
    fs.writeFileSync(
      path.join(root, 'etc', 'incidentd.yaml'),
      [
        'channels:',
        '  - { id: snow, type: servicenow, instance_url: "https://sn.example.invalid", token: t, ca_file: certs/internal-ca.pem }',
        '  - { id: desk, type: zammad, url: "https://zammad.example.invalid", token: t, group: Users, customer: noc@example.org, ca_file: ../ca.pem }',
        `  - { id: jsm, type: jira, url: "https://jira.example.invalid", token: t, service_desk_id: 4, request_type_id: 25, ca_file: ${path.join(root, 'absolute.pem')} }`,
        '  - { id: plain, type: zammad, url: "https://zammad.example.invalid", token: t, group: Users, customer: noc@example.org }',
        '',
      ].join('\n'),
    );
    const loaded = await loadConfig({ config: path.join(root, 'etc', 'incidentd.yaml'), probesDir: path.join(root, 'probes'), rulesDir: path.join(root, 'rules') }, {});
    const caFiles = Object.fromEntries(loaded.daemon.channels.map((c) => [c.id, (c as { ca_file?: string }).ca_file]));
    expect(caFiles).toEqual({
      snow: path.join(root, 'etc', 'certs', 'internal-ca.pem'),
      desk: path.join(root, 'ca.pem'),
      jsm: path.join(root, 'absolute.pem'),
      plain: undefined,
    });
  });
});
