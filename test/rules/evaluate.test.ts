// Which rules' conditions a failing signal was evaluated against (issue 13): the manager counts a
// signal as an ok for an incident only when its rule was.
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/compile.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

const { engine } = compileRules(
  [
    rule('jam', 'values.jammed == true'),
    rule('toner', 'values.tonerPercent < 10', { continue: true }),
    rule('after-toner', 'values.tonerPercent < 5'),
  ],
  UNCATEGORIZED,
);

describe('RuleEngine.evaluate', () => {
  it('rules after a first match, and rules whose condition fails to evaluate, were not observed', () => {
    const jammed = engine.evaluate(signal({ status: 'fail', values: { jammed: true, tonerPercent: 4 } }));
    expect(jammed.matches.map((m) => m.ruleId)).toEqual(['jam']);
    expect(['jam', 'toner', 'after-toner'].map((id) => jammed.observed(id))).toEqual([true, false, false]);

    const noToner = engine.evaluate(signal({ status: 'fail', values: { jammed: false } }));
    expect(noToner.matches.map((m) => m.ruleId)).toEqual(['uncategorized']);
    expect(['jam', 'toner', 'after-toner'].map((id) => noToner.observed(id))).toEqual([true, false, false]);

    const all = engine.evaluate(signal({ status: 'fail', values: { jammed: false, tonerPercent: 4 } }));
    expect(all.matches.map((m) => m.ruleId)).toEqual(['toner', 'after-toner']);
    expect(['jam', 'toner', 'after-toner', 'uncategorized'].every((id) => all.observed(id))).toBe(true);
  });

  it('a rule no longer configured counts as observed: nothing holds its incident', () => {
    const e = engine.evaluate(signal({ status: 'fail', values: { jammed: true } }));
    expect(e.observed('removed-by-a-reload')).toBe(true);
  });

  it('classify returns the same matches', () => {
    const s = signal({ status: 'fail', values: { jammed: false, tonerPercent: 4 } });
    expect(engine.classify(s)).toEqual(engine.evaluate(s).matches);
  });
});
