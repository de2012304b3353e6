// Tenants in the configuration: probe files and targets name theirs (the target's wins), sources
// name theirs, and a reference to a tenant that is not configured is an error at its position.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigPaths } from '../../src/config/load.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';

let dir: string;
let paths: ConfigPaths;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'incidentd-tenants-'));
  await mkdir(path.join(dir, 'probes'));
  await mkdir(path.join(dir, 'rules'));
  await writeFile(path.join(dir, 'rules', 'none.yaml'), 'rules: []\n');
  paths = { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TENANTS = `tenants:
  - id: acme
    name: ACME Corp
    title_prefix: ACME
    time_zone: Europe/Berlin
  - id: globex
    name: Globex
`;

async function issues(): Promise<string[]> {
  try {
    await loadConfig(paths, {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => formatIssue(i).split(`${dir}${path.sep}`).join(''));
  }
  throw new Error('the configuration loaded without errors');
}

describe('tenants in the configuration', () => {
  it('a config without tenants puts every target and source in "default"', async () => {
    await writeFile(paths.config, 'sources:\n  - id: hook\n    type: generic\n    tokens: [abcdefghijklmnop]\n');
    await writeFile(path.join(dir, 'probes', 'a.yaml'), 'targets:\n  - id: web\n    checks: []\n');
    const cfg = await loadConfig(paths, {});
    expect(cfg.daemon.tenants).toEqual([]);
    expect(cfg.targets.map((t) => t.tenant)).toEqual(['default']);
    expect(cfg.daemon.sources[0]?.tenant).toBe('default');
  });

  it('the file names the tenant of its targets, a target its own; sources name theirs', async () => {
    await writeFile(
      paths.config,
      `${TENANTS}sources:\n  - id: hook\n    type: generic\n    tenant: globex\n    tokens: [abcdefghijklmnop]\n`,
    );
    await writeFile(
      path.join(dir, 'probes', 'acme.yaml'),
      'tenant: acme\ntargets:\n  - id: printer-3f\n    checks: []\n  - id: shared-switch\n    tenant: globex\n    checks: []\n',
    );
    await writeFile(path.join(dir, 'probes', 'own.yaml'), 'targets:\n  - id: msp-vpn\n    checks: []\n');
    const cfg = await loadConfig(paths, {});
    expect(Object.fromEntries(cfg.targets.map((t) => [t.id, t.tenant]))).toEqual({
      'printer-3f': 'acme',
      'shared-switch': 'globex',
      'msp-vpn': 'default',
    });
    expect(cfg.daemon.sources[0]?.tenant).toBe('globex');
    expect(cfg.daemon.tenants[0]).toEqual({
      id: 'acme',
      name: 'ACME Corp',
      titlePrefix: 'ACME',
      timeZone: 'Europe/Berlin',
      escalation: null,
      reports: null,
      statusPage: 'private',
    });
  });

  it('a tenant\'s status page is private unless it says public; another word is an error at its position', async () => {
    await writeFile(path.join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    await writeFile(paths.config, `${TENANTS}  - id: initech\n    name: Initech\n    status_page: public\n`);
    const cfg = await loadConfig(paths, {});
    expect(cfg.daemon.tenants.map((t) => [t.id, t.statusPage])).toEqual([
      ['acme', 'private'],
      ['globex', 'private'],
      ['initech', 'public'],
    ]);
    await writeFile(paths.config, `${TENANTS}  - id: initech\n    name: Initech\n    status_page: open\n`);
    const found = await issues();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^incidentd\.yaml:10:18: .*public.*private/);
  });

  it('a tenant\'s title prefix goes before the titles of its incidents, and only of its', async () => {
    await writeFile(paths.config, TENANTS);
    await writeFile(
      path.join(dir, 'rules', 'printers.yaml'),
      'rules:\n  - id: printer-offline\n    when: target.kind == "printer"\n    classify: { category: printing, severity: minor, impact: site, tier: L1 }\n    title: "{{target.name}} offline"\n',
    );
    await writeFile(path.join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    const { engine } = await loadConfig(paths, {});
    const printer = (tenant?: string) => ({
      source: 'probe',
      target: { id: 'printer-3f', kind: 'printer', name: 'Printer 3F', site: '', labels: {}, dependsOn: [], ...(tenant === undefined ? {} : { tenant }) },
      check: { name: 'ping', type: 'icmp' },
      status: 'fail' as const,
      message: 'timeout',
      values: {},
      labels: {},
      annotations: {},
      at: 0,
    });
    expect(engine.classify(printer('acme'))[0]?.title).toBe('[ACME] Printer 3F offline');
    expect(engine.classify(printer('globex'))[0]?.title).toBe('Printer 3F offline');
    expect(engine.classify(printer())[0]?.title).toBe('Printer 3F offline');
  });

  it('a tenant may have its own escalation; its channel names are checked like the global ones', async () => {
    await writeFile(path.join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    await writeFile(
      paths.config,
      `${TENANTS}  - id: initech\n    name: Initech\n    escalation:\n      severities:\n        major: { ack: 5m }\n`,
    );
    const cfg = await loadConfig(paths, {});
    expect(cfg.daemon.tenants.map((t) => t.escalation === null)).toEqual([true, true, false]);
    expect(cfg.daemon.tenants[2]?.escalation?.severities.major.ackMs).toBe(300_000);
    await writeFile(
      paths.config,
      `${TENANTS}  - id: initech\n    name: Initech\n    escalation:\n      tiers:\n        L1: { channels: [helpdsk] }\n`,
    );
    expect(await issues()).toEqual(['incidentd.yaml:12:26: unknown channel "helpdsk" (no channels are configured)']);
  });

  it('a tenant\'s report mail: monthly by default, through an email channel that exists, errors at their position', async () => {
    await writeFile(path.join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    const channels = `channels:
  - { id: mail, type: email, smtp: { host: mail.example.invalid, port: 587 }, from: incidentd@example.invalid, to: [desk@example.invalid], domain: example.invalid }
  - { id: hook, type: webhook, url: "http://192.0.2.10/hook", secret: "0123456789abcdef-cfg" }
`;
    await writeFile(paths.config, `${channels}${TENANTS}    reports: { to: [it-lead@acme.example], channel: mail }\n`);
    const cfg = await loadConfig(paths, {});
    expect(cfg.daemon.tenants.map((t) => t.reports)).toEqual([null, { schedule: 'monthly', to: ['it-lead@acme.example'], channel: 'mail' }]);
    await writeFile(
      paths.config,
      `${channels}${TENANTS}    reports: { schedule: daily, to: [nobody], channel: hook }\n  - id: initech\n    name: Initech\n    reports:\n      to: [boss@initech.example]\n      channel: mial\n`,
    );
    expect(await issues()).toEqual([
      'incidentd.yaml:11:26: schedule must be monthly or weekly, got "daily"',
      'incidentd.yaml:11:38: expected a mail address like "it@example.com", got "nobody"',
    ]);
    await writeFile(
      paths.config,
      `${channels}${TENANTS}    reports: { to: [a@globex.example], channel: hook }\n  - id: initech\n    name: Initech\n    reports:\n      to: [boss@initech.example]\n      channel: mial\n`,
    );
    expect(await issues()).toEqual([
      'incidentd.yaml:11:49: channel "hook" is a webhook channel; the report is a mail (email channels: mail)',
      'incidentd.yaml:16:16: unknown channel "mial" (email channels: mail)',
    ]);
  });

  it('validate reports every unknown tenant with its position and a did-you-mean', async () => {
    await writeFile(
      paths.config,
      `${TENANTS}sources:\n  - id: hook\n    type: generic\n    tenant: globx\n    tokens: [abcdefghijklmnop]\n`,
    );
    await writeFile(
      path.join(dir, 'probes', 'acme.yaml'),
      'tenant: acmee\ntargets:\n  - id: printer-3f\n    checks: []\n  - id: shared-switch\n    tenant: initech\n    checks: []\n',
    );
    expect(await issues()).toEqual([
      'incidentd.yaml:11:13: unknown tenant "globx" (did you mean "globex"?); configured tenants: acme, globex',
      'probes/acme.yaml:1:9: unknown tenant "acmee" (did you mean "acme"?); configured tenants: acme, globex',
      'probes/acme.yaml:6:13: unknown tenant "initech"; configured tenants: acme, globex',
    ]);
  });

  it('without tenants configured, naming one says so; duplicate tenant ids are refused', async () => {
    await writeFile(paths.config, 'tenants:\n  - id: acme\n    name: A\n  - id: acme\n    name: B\n');
    await writeFile(path.join(dir, 'probes', 'a.yaml'), 'targets:\n  - id: web\n    tenant: acme\n    checks: []\n');
    expect(await issues()).toEqual(['incidentd.yaml:4:9: duplicate tenant id "acme"']);
    await writeFile(paths.config, 'listen: { port: 9740 }\n');
    expect(await issues()).toEqual([
      'probes/a.yaml:3:13: unknown tenant "acme"; no tenants are configured (add them under tenants in incidentd.yaml)',
    ]);
  });

  it('validate reports tokens and IdP groups naming unknown roles or tenants, with their positions and a did-you-mean', async () => {
    const config = (tokenRole: string, groupRole: string) => `${TENANTS}api:
  tokens:
    - name: acme-helpdesk
      token: abcdefghijklmnop
      role: read
      tenants: [acme, globx]
    - name: ops
      token: qrstuvwxyzabcdef
      role: ${tokenRole}
auth:
  oidc:
    issuer: https://sso.example.com/realms/it
    client_id: incidentd
    client_secret: s3cret-from-the-idp
    redirect_uri: https://incidentd.example.com/auth/oidc/callback
    groups:
      acme-it:
        roles: [agent]
        tenants: [acmee]
      msp-staff:
        roles: [${groupRole}]
        tenants: '*'
`;
    // Roles are checked with the shape of the file, before references.
    await writeFile(paths.config, config('writer', 'enginer'));
    expect(await issues()).toEqual([
      'incidentd.yaml:16:13: must be one of "read", "ingest", "write", "admin", got "writer" (did you mean "write"?)',
      'incidentd.yaml:28:17: must be one of "reporter", "agent", "engineer", "manager", "admin", got "enginer" (did you mean "engineer"?)',
    ]);
    await writeFile(paths.config, config('write', 'engineer'));
    expect(await issues()).toEqual([
      'incidentd.yaml:13:23: unknown tenant "globx" (did you mean "globex"?); configured tenants: acme, globex',
      'incidentd.yaml:26:19: unknown tenant "acmee" (did you mean "acme"?); configured tenants: acme, globex',
    ]);
  });
});
