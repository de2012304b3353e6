import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/compile.js';
import { formatExplanation } from '../../src/rules/explain-format.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

const { engine, issues } = compileRules(
  [
    rule('printer-toner', 'target.kind == "printer"'),
    rule('high-rtt', 'values.rttMs > 100.0'),
    rule('tag-hq', 'target.site == "hq"', { continue: true }),
    rule('server-down', 'target.kind == "server"', { runbook: 'Check power.\nThen check the switch port.' }),
    rule('after-first-match', 'true'),
  ],
  UNCATEGORIZED,
);

describe('explain', () => {
  it('compiles its rules', () => {
    expect(issues).toEqual([]);
  });

  it('traces every rule looked at until the first match without continue, with reasons', () => {
    const ex = engine.explain(signal());
    expect(ex.usedDefault).toBe(false);
    expect(ex.trace.map((t) => [t.ruleId, t.matched])).toEqual([
      ['printer-toner', false],
      ['high-rtt', false],
      ['tag-hq', true],
      ['server-down', true],
    ]);
    expect(ex.trace[0]?.reason).toBe('when was false');
    expect(ex.trace[1]?.reason).toContain('failed to evaluate');
    expect(ex.trace[1]?.reason).toContain('rttMs');
    expect(ex.trace[2]?.reason).toContain('continue');
    expect(ex.trace[3]?.reason).toContain('first match wins');
    expect(ex.matches.map((m) => m.ruleId)).toEqual(['tag-hq', 'server-down']);
  });

  it('gives the same matches as classify', () => {
    for (const s of [signal(), signal({ target: { kind: 'printer' } }), signal({ target: { kind: 'nas', site: 'x' } })]) {
      expect(engine.explain(s).matches).toEqual(engine.classify(s));
    }
  });

  it('marks the uncategorized default', () => {
    const { engine: only } = compileRules([rule('printer-toner', 'target.kind == "printer"')], UNCATEGORIZED);
    const ex = only.explain(signal());
    expect(ex.usedDefault).toBe(true);
    expect(ex.trace).toEqual([{ ruleId: 'printer-toner', matched: false, reason: 'when was false' }]);
    expect(ex.matches.map((m) => m.ruleId)).toEqual(['uncategorized']);
  });
});

describe('formatExplanation', () => {
  it('lists each rule with its verdict and reason, then the classification, title and fingerprint', () => {
    const s = signal();
    const ex = engine.explain(s);
    const text = formatExplanation(s, ex);
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('printer-toner'))).toMatch(/no match\s+when was false/);
    expect(lines.find((l) => l.includes('high-rtt'))).toMatch(/no match\s+when failed to evaluate/);
    expect(lines.find((l) => l.includes('server-down') && l.includes('MATCH'))).toContain('first match wins');
    expect(text).not.toContain('after-first-match');
    expect(text).toContain('category availability, severity major, impact site, tier L2, priority P1');
    expect(text).toContain('title: File server is down');
    expect(text).toContain(`fingerprint: ${ex.matches[1]?.fingerprint}`);
    expect(text).toContain('runbook: Check power.\n      Then check the switch port.');
    expect(text).not.toContain('uncategorized');
  });

  it('says clearly when the uncategorized default was used', () => {
    const { engine: none } = compileRules([rule('printer-toner', 'target.kind == "printer"')], UNCATEGORIZED);
    const s = signal();
    const text = formatExplanation(s, none.explain(s));
    expect(text).toContain('no rule matched: the uncategorized default applies');
    expect(text).toContain('rule uncategorized (uncategorized default)');
    expect(text).toContain('title: File server: ping failing');
    expect(text).toContain('priority P5');
  });

  it('explains that ok signals are not classified', () => {
    const s = signal({ status: 'ok' });
    const text = formatExplanation(s, engine.explain(s));
    expect(text).toContain('status is ok');
    expect(text).not.toContain('MATCH');
    expect(text).not.toContain('fingerprint');
  });

  it('says when no rules are loaded', () => {
    const { engine: empty } = compileRules([], UNCATEGORIZED);
    const s = signal();
    expect(formatExplanation(s, empty.explain(s))).toContain('rules: none loaded');
  });
});
