// Issue 12, finding 6: a condition's evaluation has a cost bound. Past it the condition is an
// evaluation error (reported through the engine's hook), the signal is still classified, and
// nothing hangs. Assertions are on behaviour, never on time.
import { describe, expect, it } from 'vitest';
import { compileRules, type RuleEngineHooks } from '../../src/rules/compile.js';
import { evaluationErrorReporter } from '../../src/rules/evaluation-errors.js';
import type { RuleConfig } from '../../src/rules/config.js';
import type { Logger } from '../../src/shared/logger.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

const LONG = 'a'.repeat(3000);
const NESTED = 'labels.x.split("").exists(a, labels.x.split("").exists(b, a != b))';

function engineWithErrors(rules: RuleConfig[]) {
  const errors: { ruleId: string; reason: string; message: string }[] = [];
  const hooks: RuleEngineHooks = { evaluationError: (ruleId, reason, message) => errors.push({ ruleId, reason, message }) };
  const { engine, issues } = compileRules(rules, UNCATEGORIZED, hooks);
  expect(issues).toEqual([]);
  return { engine, errors };
}

describe('evaluation cost bound', () => {
  it('stops a nested comprehension over a 3,000-character label with a cost error; the next rule classifies', () => {
    const { engine, errors } = engineWithErrors([rule('costly', NESTED), rule('fallback', 'status == "fail" && size(labels) > 0')]);
    const matches = engine.classify(signal({ labels: { x: LONG } }));
    expect(matches.map((m) => m.ruleId)).toEqual(['fallback']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ ruleId: 'costly', reason: 'cost' });
    expect(errors[0]!.message).toMatch(/cost/);
  });

  it('falls back to uncategorized when the costly rule was the only one', () => {
    const { engine, errors } = engineWithErrors([rule('costly', NESTED)]);
    expect(engine.classify(signal({ labels: { x: LONG } })).map((m) => m.ruleId)).toEqual(['uncategorized']);
    expect(errors.map((e) => e.reason)).toEqual(['cost']);
  });

  it('bounds per-iteration string work too (lowerAscii of the whole label for each character)', () => {
    const { engine, errors } = engineWithErrors([rule('costly', 'labels.x.split("").map(c, labels.x.lowerAscii()).size() > 0')]);
    expect(engine.classify(signal({ labels: { x: LONG } })).map((m) => m.ruleId)).toEqual(['uncategorized']);
    expect(errors.map((e) => e.reason)).toEqual(['cost']);
  });

  it('lets the same rule evaluate normally on small inputs', () => {
    const { engine, errors } = engineWithErrors([rule('costly', NESTED)]);
    expect(engine.classify(signal({ labels: { x: 'ab' } })).map((m) => m.ruleId)).toEqual(['costly']);
    expect(errors).toEqual([]);
  });

  it('keeps ordinary comprehensions and long messages well inside the bound', () => {
    const { engine, errors } = engineWithErrors([
      rule('any-label', 'labels.exists(k, k.startsWith("team") && labels[k].lowerAscii() == "net")'),
    ]);
    const labels: Record<string, string> = { team: 'NET' };
    for (let i = 0; i < 60; i++) labels[`l${i}`] = 'x'.repeat(100);
    const matches = engine.classify(signal({ labels, message: 'm'.repeat(200_000) }));
    expect(matches.map((m) => m.ruleId)).toEqual(['any-label']);
    expect(errors).toEqual([]);
  });

  it('shows the cost error in explain', () => {
    const { engine } = engineWithErrors([rule('costly', NESTED)]);
    expect(engine.explain(signal({ labels: { x: LONG } })).trace[0]?.reason).toMatch(/cost/);
  });

  it('names the other reasons: a missing key and a result that is not a boolean', () => {
    const { engine, errors } = engineWithErrors([rule('missing', 'labels.nope == "x" || values.rttMs > 5.0'), rule('text', 'values.state')]);
    engine.classify(signal({ values: { state: 'degraded' } }));
    expect(errors.map((e) => [e.ruleId, e.reason])).toEqual([
      ['missing', 'missing_key'],
      ['text', 'not_boolean'],
    ]);
  });
});

describe('static cost warning', () => {
  it('warns about comprehensions nested over signal data, and only about those', () => {
    const { warnings } = compileRules(
      [
        rule('nested', NESTED),
        rule('flat', 'labels.exists(k, k == "a")'),
        rule('literal', '["a", "b"].exists(x, labels.exists(k, k == x))'),
      ],
      UNCATEGORIZED,
    );
    expect(warnings.map((w) => [w.index, w.field])).toEqual([[0, 'when']]);
    expect(warnings[0]!.message).toMatch(/nested/);
  });
});

describe('evaluationErrorReporter', () => {
  it('counts every error and logs once per rule and reason', () => {
    const logged: unknown[] = [];
    const logger = { warn: (obj: unknown, msg?: string) => logged.push([obj, msg]) } as unknown as Logger;
    const counted: string[] = [];
    const report = evaluationErrorReporter(logger, (ruleId, reason) => counted.push(`${ruleId}/${reason}`));
    const { engine } = compileRules([rule('costly', NESTED)], UNCATEGORIZED, { evaluationError: report });
    for (let i = 0; i < 3; i++) engine.classify(signal({ labels: { x: LONG } }));
    expect(counted).toEqual(['costly/cost', 'costly/cost', 'costly/cost']);
    expect(logged).toHaveLength(1);
  });
});
