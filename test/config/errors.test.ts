// One fixture per class of mistake an admin makes, with the exact lines `incidentd` prints.
import { probeKinds } from '../../src/probe-kinds/registry.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/shared/errors.js';
import { fixturePaths, issueLines } from './helpers.js';

describe('config errors are reported as file:line:column: message', () => {
  it('YAML syntax errors, each at its position', async () => {
    expect(await issueLines('yaml-syntax')).toEqual([
      'yaml-syntax/probes/broken.yaml:7:9: YAML syntax error: duplicate key "host" (each key may appear once per mapping)',
      'yaml-syntax/probes/broken.yaml:8:9: YAML syntax error: Nested mappings are not allowed in compact mappings',
      'yaml-syntax/probes/broken.yaml:8:9: YAML syntax error: Implicit keys need to be on a single line',
    ]);
  });

  it('unknown key, at the key, with a did-you-mean', async () => {
    expect(await issueLines('unknown-key')).toEqual([
      'unknown-key/probes/typo.yaml:7:9: unknown key "intervall" (did you mean "interval"?)',
    ]);
  });

  it('wrong type, at the value', async () => {
    expect(await issueLines('wrong-type')).toEqual([
      'wrong-type/incidentd.yaml:3:9: expected a number, got the string "high"',
      'wrong-type/incidentd.yaml:5:16: expected a number, got a list',
    ]);
  });

  it('bad durations, in the defaults and in a check', async () => {
    expect(await issueLines('bad-duration')).toEqual([
      'bad-duration/probes/slow.yaml:2:13: expected a duration like "30s", "5m" or "1h30m" (units ms, s, m, h, d), got "30 seconds"',
      'bad-duration/probes/slow.yaml:9:18: expected a duration like "30s", "5m" or "1h30m", got number 5',
    ]);
  });

  it('timeout not shorter than the interval', async () => {
    expect(await issueLines('timeout-interval')).toEqual([
      'timeout-interval/probes/t.yaml:8:18: timeout 10s must be shorter than the interval 10s',
    ]);
  });

  it('unknown probe type lists the known types', async () => {
    expect(await issueLines('unknown-type')).toEqual([
      `unknown-type/probes/t.yaml:4:15: unknown probe type "htp" (did you mean "http"?); known types: ${[...probeKinds.keys()].join(', ')}`,
    ]);
  });

  it('unknown field of a probe kind, with a suggestion or the allowed fields', async () => {
    expect(await issueLines('unknown-kind-field')).toEqual([
      'unknown-kind-field/probes/t.yaml:7:9: unknown key "expect_baner" (did you mean "expect_banner"?)',
      'unknown-kind-field/probes/t.yaml:8:9: unknown key "certificate" (allowed: host, port, expect_banner, send, type, name, interval, timeout)',
    ]);
  });

  it('duplicate target id across two files says where the first one is', async () => {
    expect(await issueLines('duplicate-target')).toEqual([
      'duplicate-target/probes/b.yaml:4:9: duplicate target id "web" (first defined at duplicate-target/probes/a.yaml:2:9)',
    ]);
  });

  it('duplicate check name within a target, also when one name is the default', async () => {
    expect(await issueLines('duplicate-check')).toEqual([
      'duplicate-check/probes/t.yaml:8:15: duplicate check name "tcp:8080" in target "web" (first at line 4); give each check a distinct name',
    ]);
  });

  it('depends_on naming an unknown target', async () => {
    expect(await issueLines('depends-unknown')).toEqual([
      'depends-unknown/probes/t.yaml:4:18: depends_on names unknown target "swich-1" (did you mean "switch-1"?)',
    ]);
  });

  it('dependency cycles and a target depending on itself', async () => {
    expect(await issueLines('cycle')).toEqual([
      'cycle/probes/t.yaml:3:18: dependency cycle: a -> b -> c -> a; a target cannot (indirectly) depend on itself',
      'cycle/probes/t.yaml:9:18: target "d" depends on itself; remove it from depends_on',
    ]);
  });

  it('duplicate rule id across files', async () => {
    expect(await issueLines('duplicate-rule')).toEqual([
      'duplicate-rule/rules/b.yaml:2:9: duplicate rule id "down" (first defined at duplicate-rule/rules/a.yaml:2:9)',
    ]);
  });

  it('a CEL condition that does not compile points at the column inside the expression', async () => {
    expect(await issueLines('bad-cel')).toEqual([
      'bad-cel/rules/r.yaml:3:32: when: syntax error: found & but expecting end of input',
    ]);
  });

  it('a template naming an unknown field', async () => {
    expect(await issueLines('bad-template')).toEqual([
      "bad-template/rules/r.yaml:5:12: title: unknown template name '{{target.nmae}}': target has no field 'nmae'; its fields are id, kind, name, site, labels, depends_on",
    ]);
  });

  it('a dedup_by path that cannot identify a problem', async () => {
    expect(await issueLines('bad-dedup')).toEqual([
      "bad-dedup/rules/r.yaml:6:15: dedup_by: 'message' changes from one signal to the next and cannot identify a problem; use fields such as target.id, check.name or labels.<name>",
    ]);
  });

  it('an unset environment variable without default', async () => {
    expect(await issueLines('unset-env')).toEqual([
      'unset-env/incidentd.yaml:4:14: environment variable INCIDENTD_TEST_TOKEN is not set (set it, or give a default: ${INCIDENTD_TEST_TOKEN:-value})',
    ]);
    // Once set, the same file loads.
    const loaded = await loadConfig(fixturePaths('unset-env'), { INCIDENTD_TEST_TOKEN: 's3cret' });
    expect(loaded.daemon.api.tokens).toEqual([{ name: 'admin', token: 's3cret' }]);
  });

  it('reports every error of every file at once, in file order', async () => {
    expect(await issueLines('many')).toEqual([
      'many/incidentd.yaml:2:3: unknown key "prot" (did you mean "port"?)',
      'many/probes/a.yaml:6:15: must be at most 65535, got number 70000',
      'many/probes/a.yaml:9:18: expected a duration like "30s", "5m" or "1h30m" (units ms, s, m, h, d), got "fast"',
      'many/probes/b.yaml:2:9: target id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got "Web Server"',
      'many/probes/b.yaml:4:9: duplicate target id "web" (first defined at many/probes/a.yaml:2:9)',
      'many/rules/r.yaml:4:43: must be one of "minor", "medium", "severe", "major", got "critical"',
      'many/rules/r.yaml:7:18: when: syntax error: found = but expecting end of input',
      "many/rules/r.yaml:9:12: title: unknown template name '{{nope}}'; it must start with one of source, status, message, target, check, values, labels, annotations, rule, classification",
    ]);
  });

  it('the thrown error lists every issue in its message', async () => {
    const err = await loadConfig(fixturePaths('cycle'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^configuration has 2 errors:\n.*cycle\/probes\/t\.yaml:3:18: dependency cycle/);
  });

  it('a missing config file or directory is an error, not an empty configuration', async () => {
    const paths = { ...fixturePaths('ok'), probesDir: fixturePaths('ok').probesDir + '-missing' };
    const err = await loadConfig({ ...paths, config: paths.config + '.missing' }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.message)).toEqual([
      'file does not exist (create it, or pass the right path)',
      'directory does not exist (create it, or pass the right path)',
    ]);
  });
});
