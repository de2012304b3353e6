import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadRuleTests } from '../../src/config/load.js';
import { runRuleTests } from '../../src/rules/rule-tests.js';
import { SEVERITIES } from '../../src/domain/classification.js';
import { ConfigError } from '../../src/shared/errors.js';
import { fixturePaths, issueLines, REPO } from './helpers.js';

const SHIPPED = {
  config: path.join(REPO, 'config/incidentd.yaml'),
  probesDir: path.join(REPO, 'probes'),
  rulesDir: path.join(REPO, 'rules'),
};

describe('shipped examples', () => {
  it('load with zero issues and watch only this machine', async () => {
    const loaded = await loadConfig(SHIPPED, {});
    expect(loaded.daemon.listen).toEqual({ host: '127.0.0.1', port: 9740 });
    // Written as ../data/incidentd.db, relative to config/: the project's data/ folder.
    expect(loaded.daemon.store).toEqual({ type: 'sqlite', path: path.join(REPO, 'data', 'incidentd.db') });
    expect(loaded.daemon.api.tokens).toEqual([{ name: 'admin', token: 'change-me' }]);
    expect(loaded.daemon.incidents.reopenWindowMs).toBe(3_600_000);
    expect(loaded.files.map((f) => path.relative(REPO, f))).toEqual([
      'config/incidentd.yaml',
      'probes/local.yaml',
      'rules/alerts.yaml',
      'rules/devices.yaml',
      'rules/network.yaml',
      'rules/reports.yaml',
      'rules/services.yaml',
      'rules/traps.yaml',
    ]);
    const checks = loaded.targets.flatMap((t) => t.checks);
    expect(checks.map((c) => c.type).sort()).toEqual(['http', 'icmp', 'tcp']);
    for (const c of checks) {
      const where = (c.spec.host as string | undefined) ?? new URL(c.spec.url as string).hostname;
      expect(where).toBe('127.0.0.1');
    }
    expect(loaded.engine.ruleCount).toBe(loaded.rules.length);
  });

  it('the commented device examples in probes/local.yaml are valid once uncommented', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'incidentd-examples-'));
    try {
      cpSync(SHIPPED.probesDir, dir, { recursive: true });
      const text = readFileSync(path.join(dir, 'local.yaml'), 'utf8');
      const marker = text.indexOf('# Examples of other kinds of targets');
      expect(marker).toBeGreaterThan(0);
      const block = text
        .slice(marker)
        .split('\n')
        .filter((l) => l.startsWith('#  ') || l === '#')
        .map((l) => l.slice(1))
        .join('\n');
      writeFileSync(path.join(dir, 'local.yaml'), text.slice(0, marker) + block + '\n');
      const loaded = await loadConfig({ ...SHIPPED, probesDir: dir }, {});
      expect(loaded.targets.map((t) => t.id)).toEqual(
        expect.arrayContaining(['core-switch', 'ap-floor2', 'printer-accounting', 'mail']),
      );
      expect(new Set(loaded.targets.flatMap((t) => t.checks.map((c) => c.type)))).toEqual(
        new Set(['icmp', 'tcp', 'http', 'wifi-ap', 'printer', 'smtp', 'imap']),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rules cover all four severity classes, each with a runbook', async () => {
    const { rules } = await loadConfig(SHIPPED, {});
    expect(new Set(rules.map((r) => r.classify.severity))).toEqual(new Set(SEVERITIES));
    for (const r of rules) expect(r.runbook, r.id).not.toBe('');
  });

  it('rule unit tests load and pass against the shipped rules', async () => {
    const { engine } = await loadConfig(SHIPPED, {});
    const files = await loadRuleTests(SHIPPED.rulesDir, {});
    expect(files.length).toBeGreaterThan(0);
    const results = runRuleTests(engine, files);
    expect(results.length).toBeGreaterThanOrEqual(5);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });

  it('every example starts with the yaml-language-server schema line pointing at an existing schema', async () => {
    const loaded = await loadConfig(SHIPPED, {});
    const files = [...loaded.files, ...(await loadRuleTests(SHIPPED.rulesDir, {})).map((f) => f.file)];
    for (const file of files) {
      const first = readFileSync(file, 'utf8').split('\n')[0]!;
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(m, file).not.toBeNull();
      expect(() => readFileSync(path.resolve(path.dirname(file), m![1]!)), file).not.toThrow();
    }
  });
});

describe('environment interpolation', () => {
  it('fills defaults, coerces numbers where the schema wants one, and keeps $${ literal', async () => {
    const loaded = await loadConfig(fixturePaths('env'), {
      TEST_MONGODB_URI: 'mongodb://127.0.0.1:27017',
      TEST_PORT: '9800',
      TEST_WEB_PORT: '8081',
    });
    expect(loaded.daemon.listen).toEqual({ host: '127.0.0.1', port: 9800 });
    expect(loaded.daemon.store).toEqual({ type: 'mongodb', uri: 'mongodb://127.0.0.1:27017', database: 'incidentd' });
    expect(loaded.daemon.api.tokens).toEqual([{ name: 'ops', token: 'prefix-none-${LITERAL}' }]);
    expect(loaded.daemon.scheduler.jitter).toBe(0.5);
    expect(loaded.targets[0]!.checks[0]!.spec).toEqual({ host: '127.0.0.1', port: 8081 });
  });

  it('an empty variable falls back to the default, like the shell', async () => {
    const loaded = await loadConfig(fixturePaths('env'), {
      TEST_MONGODB_URI: 'mongodb://127.0.0.1:27017',
      TEST_PORT: '',
      TEST_WEB_PORT: '8081',
    });
    expect(loaded.daemon.listen.port).toBe(9741);
  });

  it('a variable that is not a number where one is needed is an error at its position', async () => {
    expect(await issueLines('env', { TEST_MONGODB_URI: 'mongodb://127.0.0.1', TEST_PORT: 'ninety', TEST_WEB_PORT: '80' })).toEqual([
      'env/incidentd.yaml:3:9: expected a number, got the string "ninety"',
    ]);
  });

  it('numbers are not coerced from strings the admin quoted by hand', async () => {
    const { parseYamlFile } = await import('../../src/config-core/yaml.js');
    const { z } = await import('zod');
    const result = parseYamlFile('x.yaml', 'port: "9740"\n', z.strictObject({ port: z.number() }), {});
    expect(result.issues.map((i) => `${i.line}:${i.column}: ${i.message}`)).toEqual(['1:7: expected a number, got the string "9740" (write the number without quotes: 9740)']);
  });
});

describe('daemon config', () => {
  it('an empty file gives every default', async () => {
    const { mkdtemp, writeFile, mkdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(path.join(tmpdir(), 'incidentd-config-'));
    try {
      await writeFile(path.join(dir, 'incidentd.yaml'), '# nothing set\n');
      await mkdir(path.join(dir, 'probes'));
      await mkdir(path.join(dir, 'rules'));
      const loaded = await loadConfig(
        { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') },
        { INCIDENTD_API_TOKEN: 'from-env' },
      );
      expect(loaded.daemon).toEqual({
        listen: { host: '127.0.0.1', port: 9740 },
        store: { type: 'sqlite', path: 'data/incidentd.db' },
        api: { tokens: [{ name: 'admin', token: 'from-env' }] },
        auth: { oidc: null, sessionSecret: null, cookieSecure: false, sessions: { idleMs: 8 * 3_600_000, absoluteMs: 7 * 86_400_000 } },
        incidents: {
          reopenWindowMs: 3_600_000,
          closeAfterMs: 7 * 86_400_000,
          flapping: { windowMs: 600_000, threshold: 6 },
          uncategorized: { category: 'uncategorized', severity: 'medium', impact: 'single-user', tier: 'L1' },
          maxSubscribers: 50,
        },
        scheduler: { concurrency: 64, jitter: 1 },
        sources: [],
        ingest: { maxQueue: 10000, maxBodyBytes: 1048576, journalDir: null },
        config: { maxFileBytes: 8_000_000 },
        snmpTraps: {
          enabled: false,
          host: '127.0.0.1',
          port: 1162,
          communities: [],
          users: [],
          target: { kind: 'device', siteLabel: null },
          labels: {},
        },
        channels: [],
        communication: { channels: [] },
        businessHours: [],
        maintenance: [],
        tenants: [],
        escalation: {
          sweepIntervalMs: 5000,
          severities: {
            minor: { tier: 'L1', ackMs: 86_400_000, resolveMs: 5 * 86_400_000, businessHours: true, notify: [] },
            medium: { tier: 'L1', ackMs: 4 * 3_600_000, resolveMs: 2 * 86_400_000, businessHours: true, notify: [] },
            severe: { tier: 'L2', ackMs: 1_800_000, resolveMs: 8 * 3_600_000, businessHours: false, notify: [] },
            major: { tier: 'L3', ackMs: 900_000, resolveMs: 4 * 3_600_000, businessHours: false, notify: [] },
          },
          tiers: {
            L1: { channels: ['*'], escalateAfterMs: 1_800_000, next: 'L2' },
            L2: { channels: ['*'], escalateAfterMs: 1_800_000, next: 'L3' },
            L3: { channels: ['*'], escalateAfterMs: 1_800_000, next: null },
          },
        },
      });
      expect(loaded.targets).toEqual([]);
      expect(loaded.rules).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('probe and rule fields get their defaults', async () => {
    const loaded = await loadConfig(fixturePaths('ok'), {});
    expect(loaded.targets).toEqual([
      {
        id: 'loopback',
        kind: 'server',
        name: 'loopback',
        site: '',
        labels: {},
        dependsOn: [],
        tenant: 'default',
        trapSources: [],
        checks: [{ name: 'tcp:9', type: 'tcp', intervalMs: 30_000, timeoutMs: 5_000, spec: { host: '127.0.0.1', port: 9 } }],
        file: fixturePaths('ok').probesDir + '/ok.yaml',
      },
    ]);
    expect(loaded.rules).toEqual([
      {
        id: 'any-failure',
        when: 'status == "fail"',
        classify: { category: 'test', severity: 'minor', impact: 'single-user', tier: 'L1' },
        title: '{{target.name}} failing',
        description: '',
        runbook: '',
        dedupBy: ['target.id', 'check.name', 'rule.id'],
        openAfter: 1,
        resolveAfter: 1,
        continue: false,
        file: fixturePaths('ok').rulesDir + '/ok.yaml',
      },
    ]);
  });

  it('loadRuleTests reports a broken test file with positions', async () => {
    const err = await loadRuleTests(path.join(fixturePaths('ok').rulesDir, '..', '..', 'rule-tests-bad'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => `${path.basename(i.file)}:${i.line}:${i.column}: ${i.message}`)).toEqual([
      'bad.yaml:2:5: missing required key "expect"',
      'bad.yaml:6:5: unknown key "exepct" (did you mean "expect"?)',
    ]);
  });
});
