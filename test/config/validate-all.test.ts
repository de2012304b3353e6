// `incidentd validate` reports every problem of every file in one run: a type error does not hide
// a duplicate id, a timeout over the interval or a depends_on typo; a broken section does not hide
// a missing file another section names. And every path the config names is resolved by one rule:
// relative to the folder of the file that names it.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigPaths } from '../../src/config/load.js';
import { ConfigError } from '../../src/shared/errors.js';
import { issueLines } from './helpers.js';

describe('validate reports every error of every file in one run', () => {
  it('a multiply broken config and probe file: all seven problems, sorted by file and line', async () => {
    expect(await issueLines('multi-broken')).toEqual([
      'multi-broken/incidentd.yaml:10:20: folder not found: multi-broken/mail-templates (mail-templates is relative to the folder of incidentd.yaml)',
      'multi-broken/incidentd.yaml:15:14: file not found: multi-broken/certs/tickets-ca.pem (certs/tickets-ca.pem is relative to the folder of incidentd.yaml)',
      'multi-broken/incidentd.yaml:18:17: expected one of "L1", "L2", "L3" or null, got the string "L4"',
      'multi-broken/probes/broken.yaml:6:27: expected a number or a list, got the string "200" (write the number without quotes: 200)',
      'multi-broken/probes/broken.yaml:12:9: duplicate target id "db" (first defined at multi-broken/probes/broken.yaml:7:9)',
      'multi-broken/probes/broken.yaml:23:18: timeout 30s must be shorter than the interval 10s',
      'multi-broken/probes/broken.yaml:25:18: depends_on names unknown target "swtich-floor2" (did you mean "switch-floor2"?)',
    ]);
  });
});

describe('later checks run on whatever parsed', () => {
  let dir: string;
  let paths: ConfigPaths;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'incidentd-validate-'));
    await mkdir(path.join(dir, 'probes'));
    await mkdir(path.join(dir, 'rules'));
    await writeFile(path.join(dir, 'rules', 'none.yaml'), 'rules: []\n');
    await writeFile(path.join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    paths = { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function messages(): Promise<string[]> {
    try {
      await loadConfig(paths, {});
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => `${path.relative(dir, i.file)}:${i.line}:${i.column}: ${i.message}`);
      throw err;
    }
    return [];
  }

  it('a type error in one section does not hide an unknown channel name, a missing CA file or a reachable example token', async () => {
    await writeFile(
      paths.config,
      [
        'listen: { host: 0.0.0.0, port: 9740 }',
        'api: { tokens: [ { name: admin, token: change-me } ] }',
        'scheduler: { concurrency: many }',
        'channels:',
        '  - { id: tickets, type: webhook, url: "https://tickets.example.invalid/", secret: a-secret-of-sixteen-chars, ca_file: /nonexistent/ca.pem }',
        '  - { id: broken, type: webhook, url: 5 }',
        'communication: { channels: [tickets, broken, nope] }',
        '',
      ].join('\n'),
    );
    const got = await messages();
    expect(got).toContain('incidentd.yaml:3:27: expected a number, got the string "many"');
    expect(got).toContain('incidentd.yaml:5:120: file not found: /nonexistent/ca.pem');
    expect(got).toContainEqual(expect.stringMatching(/^incidentd\.yaml:7:46: unknown channel "nope"/));
    expect(got).toContainEqual(expect.stringMatching(/^incidentd\.yaml:2:40: api\.tokens\[0\]\.token is an example secret/));
    // The broken channel is one problem, not also an unknown name where it is referred to.
    expect(got.filter((m) => m.includes('"broken"'))).toEqual([]);
  });

  it('an unknown key at the top of a probe file does not hide the depends_on typos of any file', async () => {
    await writeFile(paths.config, 'listen: { port: 9740 }\n');
    await writeFile(path.join(dir, 'probes', 'a.yaml'), 'defualts: {}\ntargets:\n  - id: ap\n    depends_on: [swtich]\n');
    await writeFile(path.join(dir, 'probes', 'b.yaml'), 'targets:\n  - id: switch\n  - id: ap2\n    depends_on: [swtich]\n');
    expect(await messages()).toEqual([
      'probes/a.yaml:1:1: unknown key "defualts" (did you mean "defaults"?)',
      'probes/a.yaml:4:18: depends_on names unknown target "swtich" (did you mean "switch"?)',
      'probes/b.yaml:4:18: depends_on names unknown target "swtich" (did you mean "switch"?)',
    ]);
  });

  it('a duplicate target or rule still has its own mistakes reported; a broken rule still has its condition checked', async () => {
    await writeFile(paths.config, 'listen: { port: 9740 }\n');
    await writeFile(
      path.join(dir, 'probes', 'a.yaml'),
      'targets:\n  - id: db\n  - id: db\n    checks:\n      - { type: tcp, host: 192.0.2.1, port: 99999 }\n',
    );
    await writeFile(
      path.join(dir, 'rules', 'none.yaml'),
      [
        'rules:',
        '  - id: x',
        '    when: status == "fail"',
        '    classify: { category: test, severity: minor, impact: single-user, tier: L1 }',
        '    title: t',
        '  - id: x',
        '    when: status ==',
        '    classify: { category: test, severity: minr, impact: single-user, tier: L1 }',
        '    title: t',
        '',
      ].join('\n'),
    );
    expect(await messages()).toEqual([
      'probes/a.yaml:3:9: duplicate target id "db" (first defined at ' + path.join(dir, 'probes', 'a.yaml') + ':2:9)',
      'probes/a.yaml:5:45: must be at most 65535, got number 99999',
      'rules/none.yaml:6:9: duplicate rule id "x" (first defined at ' + path.join(dir, 'rules', 'none.yaml') + ':2:9)',
      expect.stringMatching(/^rules\/none\.yaml:7:\d+: when: syntax error/),
      'rules/none.yaml:8:43: must be one of "minor", "medium", "severe", "major", got "minr" (did you mean "minor"?)',
    ]);
  });

  it('store.path, ingest.journal_dir, templates_dir and ca_file are relative to the folder of the config file', async () => {
    await mkdir(path.join(dir, 'templates'));
    await writeFile(path.join(dir, 'ca.pem'), 'not checked here\n');
    await writeFile(
      paths.config,
      [
        'store: { type: sqlite, path: state/incidentd.db }',
        'ingest: { journal_dir: state/intake }',
        'channels:',
        '  - { id: mail, type: email, smtp: { host: mail.example.invalid, port: 587, ca_file: ca.pem }, from: a@example.invalid, to: [b@example.invalid], domain: example.invalid, templates_dir: templates }',
        '',
      ].join('\n'),
    );
    // Loaded from another working directory: nothing depends on it.
    const loaded = await loadConfig(paths, {});
    expect(loaded.daemon.store).toEqual({ type: 'sqlite', path: path.join(dir, 'state', 'incidentd.db') });
    expect(loaded.daemon.ingest.journalDir).toBe(path.join(dir, 'state', 'intake'));
    expect(loaded.daemon.channels[0]).toMatchObject({ templates_dir: path.join(dir, 'templates'), smtp: { ca_file: path.join(dir, 'ca.pem') } });
  });

  it('a store or journal folder that cannot be created is an error at its key', async () => {
    await writeFile(path.join(dir, 'plain-file'), 'x\n');
    await writeFile(paths.config, 'store: { type: sqlite, path: plain-file/incidentd.db }\ningest: { journal_dir: plain-file/intake }\n');
    const file = path.join(dir, 'plain-file');
    expect(await messages()).toEqual([
      `incidentd.yaml:1:30: cannot create ${file}/incidentd.db: ${file} is not a folder (plain-file/incidentd.db is relative to the folder of incidentd.yaml)`,
      `incidentd.yaml:2:24: cannot create ${file}/intake: ${file} is not a folder (plain-file/intake is relative to the folder of incidentd.yaml)`,
    ]);
  });
});
