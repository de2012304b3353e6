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
    // Its condition needs a printer: the prefilter says so without evaluating it.
    expect(ex.trace[0]?.reason).toBe('cannot match: target.kind is "server", the condition needs "printer" (not evaluated)');
    expect(ex.trace[1]?.reason).toContain('failed to evaluate');
    expect(ex.trace[1]?.reason).toContain('rttMs');
    expect(ex.trace[2]?.reason).toContain('continue');
    expect(ex.trace[3]?.reason).toContain('first match wins');
    expect(ex.matches.map((m) => m.ruleId)).toEqual(['tag-hq', 'server-down']);
  });

  it('lists the later rules that would also match as shadowed, naming the rule that wins', () => {
    const { engine: ordered } = compileRules(
      [
        rule('any-icmp', 'check.type == "icmp"'),
        rule('printer-only', 'target.kind == "printer"'),
        rule('server-icmp', 'target.kind == "server" && check.type == "icmp"'),
        rule('hq-tag', 'target.site == "hq"', { continue: true }),
        rule('broken-later', 'values.rttMs > 100.0'),
      ],
      UNCATEGORIZED,
    );
    const ex = ordered.explain(signal());
    expect(ex.matches.map((m) => m.ruleId)).toEqual(['any-icmp']);
    expect(ex.shadowed).toEqual([
      { ruleId: 'server-icmp', by: 'any-icmp' },
      { ruleId: 'hq-tag', by: 'any-icmp' },
    ]);
    // Explaining shadowed rules classifies nothing more: classify still stops at the winner.
    expect(ordered.classify(signal()).map((m) => m.ruleId)).toEqual(['any-icmp']);
  });

  it('has nothing shadowed when the uncategorized default applies or every match continues', () => {
    const { engine: chain } = compileRules(
      [rule('a', 'true', { continue: true }), rule('b', 'true', { continue: true })],
      UNCATEGORIZED,
    );
    expect(chain.explain(signal()).shadowed).toEqual([]);
    const { engine: none } = compileRules([rule('printer-toner', 'target.kind == "printer"')], UNCATEGORIZED);
    expect(none.explain(signal()).shadowed).toEqual([]);
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
    expect(ex.trace).toEqual([
      { ruleId: 'printer-toner', matched: false, reason: 'cannot match: target.kind is "server", the condition needs "printer" (not evaluated)' },
    ]);
    expect(ex.matches.map((m) => m.ruleId)).toEqual(['uncategorized']);
  });
});

describe('formatExplanation', () => {
  it('lists each rule with its verdict and reason, then the classification, title and fingerprint', () => {
    const s = signal();
    const ex = engine.explain(s);
    const text = formatExplanation(s, ex);
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('printer-toner'))).toMatch(/no match\s+cannot match: target.kind is "server"/);
    expect(lines.find((l) => l.includes('high-rtt'))).toMatch(/no match\s+when failed to evaluate/);
    expect(lines.find((l) => l.includes('server-down') && l.includes('MATCH'))).toContain('first match wins');
    // The rule after the winner is listed only as shadowed, never as a match.
    expect(lines.filter((l) => l.includes('after-first-match'))).toEqual([
      expect.stringMatching(/^\s+after-first-match\s+SHADOWED\s+server-down matches first and wins/),
    ]);
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
