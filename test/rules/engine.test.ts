import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/domain/signal.js';
import { compileWhen } from '../../src/rules/cel.js';
import { whenBindings } from '../../src/rules/cel-bindings.js';
import { compileRules } from '../../src/rules/compile.js';
import type { RuleConfig } from '../../src/rules/config.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

function engineOf(rules: RuleConfig[]) {
  const { engine, issues } = compileRules(rules, UNCATEGORIZED);
  expect(issues).toEqual([]);
  return engine;
}

describe('rule order', () => {
  it('stops at the first matching rule', () => {
    const engine = engineOf([
      rule('not-a-printer', 'target.kind == "printer"'),
      rule('server-down', 'target.kind == "server"'),
      rule('any-failure', 'status == "fail"'),
    ]);
    const matches = engine.classify(signal());
    expect(matches.map((m) => m.ruleId)).toEqual(['server-down']);
  });

  it('goes on after a rule with continue and returns every match in order', () => {
    const engine = engineOf([
      rule('tag-hq', 'target.site == "hq"', { continue: true }),
      rule('never', 'target.kind == "printer"'),
      rule('server-down', 'target.kind == "server"'),
      rule('any-failure', 'status == "fail"'),
    ]);
    expect(engine.classify(signal()).map((m) => m.ruleId)).toEqual(['tag-hq', 'server-down']);
  });

  it('applies no default when only continue rules matched', () => {
    const engine = engineOf([rule('tag-hq', 'target.site == "hq"', { continue: true })]);
    expect(engine.classify(signal()).map((m) => m.ruleId)).toEqual(['tag-hq']);
  });

  it('reports how many rules are loaded', () => {
    expect(engineOf([rule('a', 'true'), rule('b', 'false')]).ruleCount).toBe(2);
  });
});

describe('uncategorized default', () => {
  it('classifies a failing signal no rule matches with the policy default', () => {
    const engine = engineOf([rule('printer-toner', 'target.kind == "printer"')]);
    const [m, ...rest] = engine.classify(signal());
    expect(rest).toEqual([]);
    expect(m).toMatchObject({
      ruleId: 'uncategorized',
      classification: { category: 'uncategorized', severity: 'minor', impact: 'single-user', tier: 'L1', priority: 'P5' },
      title: 'File server: ping failing',
      openAfter: 1,
      resolveAfter: 1,
    });
    expect(m?.description).toContain('host unreachable');
  });

  it('titles an alert (not a probe check) "<alert> on <target>", not "… failing"', () => {
    const engine = engineOf([]);
    const alert = signal({ source: 'alertmanager', check: { name: 'DiskAlmostFull', type: 'alertmanager' } });
    expect(engine.classify(alert)[0]?.title).toBe('DiskAlmostFull on File server');
    expect(engine.explain(alert).matches[0]?.title).toBe('DiskAlmostFull on File server');
    // A probe check keeps its "failing" title, and both share the fingerprint rule.
    expect(engine.classify(signal())[0]?.title).toBe('File server: ping failing');
  });

  it('applies with no rules at all', () => {
    expect(engineOf([]).classify(signal()).map((m) => m.ruleId)).toEqual(['uncategorized']);
  });

  it('gives the same fingerprint to the same target and check, and different ones otherwise', () => {
    const engine = engineOf([]);
    const fp = (s: ReturnType<typeof signal>) => engine.classify(s)[0]?.fingerprint;
    expect(fp(signal({ message: 'a' }))).toBe(fp(signal({ message: 'b', at: 5 })));
    expect(fp(signal())).not.toBe(fp(signal({ target: { id: 'srv-02' } })));
    expect(fp(signal())).not.toBe(fp(signal({ check: { name: 'http', type: 'http' } })));
  });
});

describe('ok signals', () => {
  it('produce no match, not even the default', () => {
    const engine = engineOf([rule('any', 'true')]);
    expect(engine.classify(signal({ status: 'ok' }))).toEqual([]);
    expect(engine.explain(signal({ status: 'ok' }))).toEqual({ matches: [], trace: [], usedDefault: false, shadowed: [] });
  });
});

describe('evaluation errors', () => {
  it('make a rule not match, and later rules still run', () => {
    const engine = engineOf([
      rule('high-rtt', 'values.rttMs > 100.0'),
      rule('server-down', 'target.kind == "server"'),
    ]);
    // values.rttMs is missing: the first rule errors instead of matching.
    expect(engine.classify(signal()).map((m) => m.ruleId)).toEqual(['server-down']);
    expect(engine.classify(signal({ values: { rttMs: 250 } })).map((m) => m.ruleId)).toEqual(['high-rtt']);
  });

  it('keep the reason for explain', () => {
    const engine = engineOf([rule('high-rtt', 'values.rttMs > 100.0')]);
    const ex = engine.explain(signal());
    expect(ex.trace).toHaveLength(1);
    expect(ex.trace[0]?.matched).toBe(false);
    expect(ex.trace[0]?.reason).toMatch(/failed to evaluate: .*rttMs/);
    expect(ex.usedDefault).toBe(true);
  });

  it('treat a non-boolean result as no match', () => {
    const engine = engineOf([rule('odd', 'values.state')]);
    const ex = engine.explain(signal({ values: { state: 'degraded' } }));
    expect(ex.trace[0]?.reason).toBe('when evaluated to the string "degraded", not a boolean');
    expect(ex.matches.map((m) => m.ruleId)).toEqual(['uncategorized']);
  });
});

describe('conditions over every variable', () => {
  // name, condition, a signal it matches, a signal it does not match
  const cases: [string, string, ReturnType<typeof signal>, ReturnType<typeof signal>][] = [
    ['source', 'source == "alertmanager"', signal({ source: 'alertmanager' }), signal()],
    ['message', 'message.contains("refused")', signal({ message: 'connection refused' }), signal()],
    ['target.labels', 'target.labels.role == "dc"', signal({ target: { labels: { role: 'dc' } } }), signal({ target: { labels: { role: 'fs' } } })],
    ['depends_on', '"sw-core" in target.depends_on', signal({ target: { dependsOn: ['sw-core'] } }), signal()],
    ['check.type', 'check.type in ["icmp", "tcp"]', signal(), signal({ check: { name: 'web', type: 'http' } })],
    ['values number', 'values.tonerPercent < 10.0', signal({ values: { tonerPercent: 4 } }), signal({ values: { tonerPercent: 40 } })],
    ['values int literal', 'values.clients == 0', signal({ values: { clients: 0 } }), signal({ values: { clients: 3 } })],
    ['values bool', 'values.authOk == false', signal({ values: { authOk: false } }), signal({ values: { authOk: true } })],
    ['labels', 'labels.alertname == "HostDown"', signal({ labels: { alertname: 'HostDown' } }), signal({ labels: { alertname: 'DiskFull' } })],
    ['annotations', 'has(annotations.summary)', signal({ annotations: { summary: 'x' } }), signal()],
    ['macro', 'target.labels.exists(k, k.startsWith("team"))', signal({ target: { labels: { team_a: '1' } } }), signal()],
    ['strings extension', 'target.name.lowerAscii() == "file server"', signal(), signal({ target: { name: 'Mail' } })],
  ];
  for (const [name, when, yes, no] of cases) {
    it(`matches on ${name}`, () => {
      const engine = engineOf([rule('r', when)]);
      expect(engine.classify(yes).map((m) => m.ruleId)).toEqual(['r']);
      expect(engine.classify(no).map((m) => m.ruleId)).toEqual(['uncategorized']);
    });
  }

  it('reads map keys that contain dots, and has() of a missing key is false', () => {
    const engine = engineOf([
      rule('dotted', 'values["disk./var"] > 90.0 && target.labels["rack.position"] == "A1"'),
      rule('no-summary', '!has(annotations.summary) && !has(values.rttMs)'),
    ]);
    const full = signal({ values: { 'disk./var': 95 }, target: { labels: { 'rack.position': 'A1' } } });
    expect(engine.classify(full).map((m) => m.ruleId)).toEqual(['dotted']);
    expect(engine.classify(signal()).map((m) => m.ruleId)).toEqual(['no-summary']);
  });

  it('does not let a condition reach anything but the signal', () => {
    // Names the activation object has besides the variables must stay undeclared.
    for (const when of ['signal.status == "fail"', 'fixed.size() > 0', 'activation == null']) {
      expect(compileRules([rule('r', when)], UNCATEGORIZED).issues[0]?.message).toContain('undeclared variable');
    }
    // A key named like an object property is just a missing key.
    const engine = engineOf([rule('r', 'labels.constructor == "x" || values.toString == "y"')]);
    expect(engine.explain(signal()).trace[0]?.reason).toMatch(/failed to evaluate/);
  });

  it('does not match when a guard field differs, whatever the rest would do', () => {
    // The second conjunct errors (no such value); false && error is false in CEL.
    const engine = engineOf([rule('printer', 'target.kind == "printer" && values.tonerPercent < 10.0')]);
    const ex = engine.explain(signal());
    expect(ex.trace[0]).toEqual({
      ruleId: 'printer',
      matched: false,
      reason: 'cannot match: target.kind is "server", the condition needs "printer" (not evaluated)',
    });
  });

  it('reports an error when a non-guard conjunct errors and the rest is true', () => {
    const engine = engineOf([rule('printer', 'target.kind == "server" && values.tonerPercent < 10.0')]);
    expect(engine.explain(signal()).trace[0]?.reason).toMatch(/failed to evaluate/);
  });
});

describe('fast paths agree with full evaluation', () => {
  // Conditions whose top-level conjuncts compare fixed fields or map keys with strings are
  // decided early; wrapping them in `(...) || false` forces the full evaluator for comparison.
  const conditions = [
    'target.kind == "server" && values.rttMs > 100.0',
    '"printer" == target.kind',
    'check.type in ["icmp", "tcp"] && target.site == "hq"',
    'source == "alertmanager" && labels.alertname == "HostDown"',
    'labels["alertname"] in ["HostDown", "InstanceDown"]',
    'target.labels.role == "dc" && status == "fail"',
    'target.labels["rack.position"] == "A1"',
    'annotations.summary == "x" && message == "host unreachable"',
    'labels.constructor == "x"',
    '"alertname" in labels && labels.alertname == "HostDown"',
    '"severity" in labels && labels.severity in ["critical", "page"]',
    'has(labels.alertname) && source == "alertmanager"',
    '"role" in target.labels && has(values.rttMs)',
    '"summary" in annotations',
    '"constructor" in labels',
  ];
  const signals = [
    signal(),
    signal({ values: { rttMs: 500 } }),
    signal({ target: { kind: 'printer', site: 'branch' } }),
    signal({ check: { name: 'web', type: 'tcp' } }),
    signal({ source: 'alertmanager', labels: { alertname: 'HostDown' } }),
    signal({ source: 'alertmanager', labels: { alertname: 'DiskFull' } }),
    signal({ labels: { alertname: 'InstanceDown' } }),
    signal({ target: { labels: { role: 'dc', 'rack.position': 'A1' } } }),
    signal({ target: { labels: { role: 'fs', 'rack.position': 'B2' } } }),
    signal({ annotations: { summary: 'x' } }),
    signal({ labels: { severity: 'critical' } }),
    signal({ labels: { severity: 'warning' } }),
  ];
  for (const when of conditions) {
    it(`for ${when}`, () => {
      const fast = engineOf([rule('r', when)]);
      const full = engineOf([rule('r', `(${when}) || false`)]);
      for (const s of signals) {
        expect(fast.classify(s).map((m) => m.ruleId)).toEqual(full.classify(s).map((m) => m.ruleId));
      }
    });
  }

  it('decides a condition of key and value guards without the evaluator (no step of its budget)', () => {
    // A budget of zero steps: anything the evaluator ran would stop with a cost error.
    const compiled = compileWhen('"severity" in labels && labels.severity == "critical" && check.type == "icmp"', 0);
    if (!compiled.ok) throw new Error(compiled.problem.message);
    const run = (s: Signal) => compiled.when.evaluate(whenBindings(s));
    expect(run(signal({ labels: { severity: 'critical' } }))).toEqual({ ok: true, value: true });
    expect(run(signal({ labels: { severity: 'warning' } }))).toEqual({ ok: true, value: false });
    expect(run(signal())).toEqual({ ok: true, value: false });
    // The same condition with a conjunct that is no guard needs the evaluator, which the budget stops.
    const unguarded = compileWhen('"severity" in labels && labels.severity == "critical" && size(message) > 0', 0);
    if (!unguarded.ok) throw new Error(unguarded.problem.message);
    expect(unguarded.when.evaluate(whenBindings(signal({ labels: { severity: 'critical' } }))).ok).toBe(false);
  });

  it('still reports a missing key as an error, and a different value as false', () => {
    const engine = engineOf([rule('r', 'labels.alertname == "HostDown" && values.x > 1.0')]);
    expect(engine.explain(signal({ labels: { alertname: 'DiskFull' } })).trace[0]?.reason).toBe('when was false');
    expect(engine.explain(signal()).trace[0]?.reason).toMatch(/failed to evaluate/);
  });
});

describe('classification', () => {
  const corners = [
    ['organisation', 'major', 'P1'],
    ['organisation', 'minor', 'P3'],
    ['single-user', 'major', 'P3'],
    ['single-user', 'minor', 'P5'],
    ['site', 'severe', 'P2'],
    ['multiple-users', 'medium', 'P4'],
  ] as const;
  for (const [impact, severity, priority] of corners) {
    it(`gives ${priority} to impact ${impact} with severity ${severity}`, () => {
      const engine = engineOf([rule('r', 'true', { classify: { category: 'net', severity, impact, tier: 'L3' } })]);
      expect(engine.classify(signal())[0]?.classification).toEqual({ category: 'net', severity, impact, tier: 'L3', priority });
    });
  }
});

describe('templates', () => {
  it('render title, description and runbook as plain text with every part of the view', () => {
    const engine = engineOf([
      rule('r', 'true', {
        classify: { category: 'printing', severity: 'minor', impact: 'multiple-users', tier: 'L1' },
        title: '{{target.name}} <{{target.site}}> & {{check.name}}: {{values.tonerPercent}}% toner',
        description:
          '{{source}}/{{status}}: {{message}} [{{target.id}} {{target.kind}} {{target.labels.room}} {{target.depends_on}}] ' +
          '{{check.type}} {{labels.team}} {{annotations.summary}} {{rule.id}} ' +
          '{{classification.category}} {{classification.severity}} {{classification.impact}} {{classification.tier}} {{classification.priority}}',
        runbook: '{{#target.depends_on}}check {{.}}; {{/target.depends_on}}{{^labels.team}}no team{{/labels.team}}',
      }),
    ]);
    const [m] = engine.classify(
      signal({
        target: { name: 'HP "4th floor"', labels: { room: '4.12' }, dependsOn: ['sw-1', 'sw-2'] },
        check: { name: 'toner', type: 'printer' },
        values: { tonerPercent: 3 },
        labels: { team: 'ops' },
        annotations: { summary: 'low' },
        message: 'a < b',
      }),
    );
    expect(m?.title).toBe('HP "4th floor" <hq> & toner: 3% toner');
    expect(m?.description).toBe(
      'probe/fail: a < b [srv-01 server 4.12 sw-1,sw-2] printer ops low r printing minor multiple-users L1 P5',
    );
    expect(m?.runbook).toBe('check sw-1; check sw-2; ');
  });

  it('render a missing map key as empty text', () => {
    const engine = engineOf([rule('r', 'true', { title: 'room [{{target.labels.room}}] rtt [{{values.rttMs}}]' })]);
    expect(engine.classify(signal())[0]?.title).toBe('room [] rtt []');
  });

  it('render only keys the signal has, not properties every object has', () => {
    const title = '[{{labels.constructor}}] [{{annotations.toString}}] [{{target.labels.hasOwnProperty}}] [{{values.valueOf}}]';
    const engine = engineOf([rule('r', 'true', { title })]);
    expect(engine.classify(signal())[0]?.title).toBe('[] [] [] []');
    expect(engine.classify(signal({ labels: { constructor: 'c' } }))[0]?.title).toBe('[c] [] [] []');
  });

  it('render the same text whether or not the template has sections', () => {
    // A section that never renders makes the whole template go through the mustache interpreter.
    const names =
      '{{source}} {{status}} {{message}} {{target.id}} {{target.kind}} {{target.name}} {{target.site}} {{target.depends_on}} ' +
      '{{target.labels.room}} {{check.name}} {{check.type}} {{values.n}} {{values.ok}} {{labels.team}} {{annotations.summary}} ' +
      '{{classification.category}} {{classification.severity}} {{classification.impact}} {{classification.tier}} {{classification.priority}}';
    const engine = engineOf([
      rule('plain', 'true', { continue: true, title: names }),
      rule('sections', 'true', { title: `{{#labels.nope}}x{{/labels.nope}}${names}` }),
    ]);
    const s = signal({
      target: { labels: { room: '4.12' }, dependsOn: ['sw-1', 'sw-2'] },
      values: { n: 3.5, ok: false },
      labels: { team: 'ops' },
      annotations: { summary: 'low' },
    });
    const [plain, sections] = engine.classify(s);
    expect(plain?.title).toBe(sections?.title);
    expect(plain?.title).toBe(
      'probe fail host unreachable srv-01 server File server hq sw-1,sw-2 4.12 ping icmp 3.5 false ops low availability major site L2 P1',
    );
  });
});

describe('fingerprints', () => {
  const dedupBy = ['target.id', 'labels.alertname', 'values.port', 'rule.id'];

  it('are stable for equal dedup fields and ignore everything else', () => {
    const engine = engineOf([rule('r', 'true', { dedupBy })]);
    const a = engine.classify(signal({ labels: { alertname: 'X' }, values: { port: 25 }, message: 'one', at: 1 }));
    const b = engine.classify(
      signal({ labels: { alertname: 'X', other: 'y' }, values: { port: 25, rttMs: 9 }, message: 'two', at: 2, check: { name: 'other', type: 'tcp' } }),
    );
    expect(a[0]?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(a[0]?.fingerprint).toBe(b[0]?.fingerprint);
  });

  it('differ when any dedup field differs', () => {
    const engine = engineOf([rule('r', 'true', { dedupBy })]);
    const fp = (s: ReturnType<typeof signal>) => engine.classify(s)[0]?.fingerprint;
    const base = fp(signal({ labels: { alertname: 'X' }, values: { port: 25 } }));
    expect(fp(signal({ labels: { alertname: 'Y' }, values: { port: 25 } }))).not.toBe(base);
    expect(fp(signal({ labels: { alertname: 'X' }, values: { port: 587 } }))).not.toBe(base);
    expect(fp(signal({ labels: { alertname: 'X' }, values: { port: 25 }, target: { id: 'srv-02' } }))).not.toBe(base);
    // A missing value counts as empty text, which differs from any present value.
    expect(fp(signal({ values: { port: 25 } }))).not.toBe(base);
  });

  it('differ between rules when rule.id is a dedup field, and not otherwise', () => {
    const withRule = engineOf([
      rule('a', 'true', { continue: true, dedupBy: ['target.id', 'rule.id'] }),
      rule('b', 'true', { dedupBy: ['target.id', 'rule.id'] }),
    ]).classify(signal());
    expect(withRule[0]?.fingerprint).not.toBe(withRule[1]?.fingerprint);
    const withoutRule = engineOf([
      rule('a', 'true', { continue: true, dedupBy: ['target.id'] }),
      rule('b', 'true', { dedupBy: ['target.id'] }),
    ]).classify(signal());
    expect(withoutRule[0]?.fingerprint).toBe(withoutRule[1]?.fingerprint);
  });

  it('do not confuse values that only differ in where one ends and the next begins', () => {
    const engine = engineOf([rule('r', 'true', { dedupBy: ['labels.a', 'labels.b'] })]);
    const fp = (labels: Record<string, string>) => engine.classify(signal({ labels }))[0]?.fingerprint;
    expect(fp({ a: 'x1', b: '2' })).not.toBe(fp({ a: 'x', b: '12' }));
    // Asked again (served from the cache), the answers stay the same.
    expect(fp({ a: 'x1', b: '2' })).toBe(fp({ a: 'x1', b: '2' }));
  });

  it('stay the same after the remembered fingerprints are forgotten', () => {
    const engine = engineOf([rule('r', 'true')]);
    const fp = (id: string) => engine.classify(signal({ target: { id } }))[0]?.fingerprint;
    const first = fp('srv-0');
    // More distinct series than are remembered: the cache is emptied on the way.
    for (let i = 1; i <= 12_000; i++) fp(`srv-${i}`);
    expect(fp('srv-0')).toBe(first);
    expect(fp('srv-0')).toBe(engineOf([rule('r', 'true')]).classify(signal({ target: { id: 'srv-0' } }))[0]?.fingerprint);
  });

  it('use target.id, check.name and rule.id when a rule lists no dedup fields', () => {
    const engine = engineOf([rule('r', 'true', { dedupBy: [] })]);
    const fp = (s: ReturnType<typeof signal>) => engine.classify(s)[0]?.fingerprint;
    expect(fp(signal())).toBe(fp(signal({ target: { kind: 'printer' } })));
    expect(fp(signal())).not.toBe(fp(signal({ check: { name: 'http', type: 'http' } })));
  });
});
