import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/compile.js';
import { ruleTestFileSchema, runRuleTests } from '../../src/rules/rule-tests.js';
import { rule, UNCATEGORIZED } from './helpers.js';

const { engine } = compileRules(
  [
    rule('server-unreachable', 'target.kind == "server" && check.type == "icmp"', {
      classify: { category: 'availability', severity: 'major', impact: 'site', tier: 'L2' },
      title: '{{target.name}} unreachable',
      dedupBy: ['target.id', 'rule.id'],
    }),
    rule('toner-low', 'target.kind == "printer" && values.tonerPercent < 10.0', {
      classify: { category: 'printing', severity: 'minor', impact: 'multiple-users', tier: 'L1' },
      title: '{{target.name}}: toner {{values.tonerPercent}}%',
    }),
  ],
  UNCATEGORIZED,
);

function parse(tests: unknown) {
  return ruleTestFileSchema.parse({ tests }).tests;
}

describe('rule test files', () => {
  it('pass when every expectation holds', () => {
    const tests = parse([
      {
        name: 'server down',
        signal: { target: { id: 'srv-1', name: 'Mail' }, check: { name: 'ping', type: 'icmp' } },
        expect: [
          { rule: 'server-unreachable', category: 'availability', severity: 'major', impact: 'site', tier: 'L2', priority: 'P1', title: 'Mail unreachable' },
        ],
      },
      {
        name: 'same server, other check',
        signal: { target: { id: 'srv-1' }, check: { name: 'ping6', type: 'icmp' }, message: 'different' },
        expect: [{ rule: 'server-unreachable', fingerprint_same_as: 'server down' }],
      },
      {
        name: 'unknown kind',
        signal: { target: { id: 'nas-1', kind: 'nas' }, check: { name: 'ping', type: 'icmp' } },
        expect: [{ rule: 'uncategorized', severity: 'minor' }],
      },
      { name: 'recovery', signal: { target: { id: 'srv-1' }, check: { name: 'ping', type: 'icmp' }, status: 'ok' }, expect: [] },
    ]);
    const results = runRuleTests(engine, [{ file: 'rules/servers.test.yaml', tests }]);
    expect(results).toEqual([
      { file: 'rules/servers.test.yaml', name: 'server down', passed: true, failures: [] },
      { file: 'rules/servers.test.yaml', name: 'same server, other check', passed: true, failures: [] },
      { file: 'rules/servers.test.yaml', name: 'unknown kind', passed: true, failures: [] },
      { file: 'rules/servers.test.yaml', name: 'recovery', passed: true, failures: [] },
    ]);
  });

  it('fail with one readable line per unmet expectation', () => {
    const tests = parse([
      {
        name: 'wrong classification',
        signal: { target: { id: 'srv-1', name: 'Mail' }, check: { name: 'ping', type: 'icmp' } },
        expect: [{ rule: 'server-unreachable', severity: 'severe', tier: 'L3', priority: 'P1', title: 'Mail down' }],
      },
    ]);
    const [r] = runRuleTests(engine, [{ file: 'a.yaml', tests }]);
    expect(r?.passed).toBe(false);
    expect(r?.failures).toEqual([
      'expected severity severe, got major (rule server-unreachable)',
      'expected tier L3, got L2 (rule server-unreachable)',
      'expected title "Mail down", got "Mail unreachable" (rule server-unreachable)',
    ]);
  });

  it('fail when another rule matched, or a different number of matches came out', () => {
    const tests = parse([
      {
        name: 'toner',
        signal: { target: { id: 'prn-1', kind: 'printer' }, check: { name: 'supplies', type: 'printer' }, values: { tonerPercent: 50 } },
        expect: [{ rule: 'toner-low', severity: 'minor' }],
      },
      {
        name: 'expects nothing',
        signal: { target: { id: 'srv-1' }, check: { name: 'ping', type: 'icmp' } },
        expect: [],
      },
    ]);
    const [wrongRule, tooMany] = runRuleTests(engine, [{ file: 'a.yaml', tests }]);
    expect(wrongRule?.failures).toEqual(['expected rule toner-low, got uncategorized']);
    expect(tooMany?.failures).toEqual(['expected 0 matches (none), got 1 match (server-unreachable)']);
  });

  it('fail when fingerprints differ or the referenced test does not exist', () => {
    const tests = parse([
      { name: 'srv-1', signal: { target: { id: 'srv-1' }, check: { name: 'ping', type: 'icmp' } }, expect: [{ rule: 'server-unreachable' }] },
      {
        name: 'srv-2',
        signal: { target: { id: 'srv-2' }, check: { name: 'ping', type: 'icmp' } },
        expect: [{ rule: 'server-unreachable', fingerprint_same_as: 'srv-1' }],
      },
      {
        name: 'dangling',
        signal: { target: { id: 'srv-2' }, check: { name: 'ping', type: 'icmp' } },
        expect: [{ rule: 'server-unreachable', fingerprint_same_as: 'srv-9' }],
      },
    ]);
    const results = runRuleTests(engine, [{ file: 'a.yaml', tests }]);
    expect(results[1]?.passed).toBe(false);
    expect(results[1]?.failures[0]).toMatch(
      /^expected the same fingerprint as test 'srv-1' \([0-9a-f]{32}, rule server-unreachable\), got [0-9a-f]{32} \(rule server-unreachable\)$/,
    );
    expect(results[2]?.failures).toEqual([
      "fingerprint_same_as names 'srv-9', but no test in this file has that name",
    ]);
  });

  it('keep results per file, and a name in another file is not found', () => {
    const a = parse([{ name: 'one', signal: { target: { id: 'srv-1' }, check: { name: 'ping', type: 'icmp' } }, expect: [{ rule: 'server-unreachable' }] }]);
    const b = parse([
      { name: 'two', signal: { target: { id: 'srv-1' }, check: { name: 'ping', type: 'icmp' } }, expect: [{ rule: 'server-unreachable', fingerprint_same_as: 'one' }] },
    ]);
    const results = runRuleTests(engine, [
      { file: 'a.yaml', tests: a },
      { file: 'b.yaml', tests: b },
    ]);
    expect(results.map((r) => [r.file, r.name, r.passed])).toEqual([
      ['a.yaml', 'one', true],
      ['b.yaml', 'two', false],
    ]);
  });
});

describe('rule test file schema', () => {
  it('rejects unknown keys and unknown classification values', () => {
    const base = { name: 't', signal: { target: { id: 'x' }, check: { name: 'c' } } };
    expect(ruleTestFileSchema.safeParse({ tests: [{ ...base, expect: [{ rule: 'r', sevrity: 'major' }] }] }).success).toBe(false);
    expect(ruleTestFileSchema.safeParse({ tests: [{ ...base, expect: [{ rule: 'r', severity: 'huge' }] }] }).success).toBe(false);
    expect(ruleTestFileSchema.safeParse({ tests: [{ ...base, expect: [] }], extra: 1 }).success).toBe(false);
    expect(ruleTestFileSchema.safeParse({ tests: [{ ...base, expect: [{ rule: 'r', priority: 'P9' }] }] }).success).toBe(false);
  });

  it('rejects two tests with the same name', () => {
    const t = { name: 'same', signal: { target: { id: 'x' }, check: { name: 'c' } }, expect: [] };
    const r = ruleTestFileSchema.safeParse({ tests: [t, t] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain("test name 'same' is used twice");
    expect(r.error?.issues[0]?.path).toEqual(['tests', 1, 'name']);
  });
});
