// A condition that fails to evaluate at run time (a measurement of another type than the rule
// expects, a missing key) does not match, is counted in the metric every time and logged once per
// rule and reason.
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { compileRules } from '../../src/rules/compile.js';
import { evaluationErrorReporter } from '../../src/rules/evaluation-errors.js';
import type { Logger } from '../../src/shared/logger.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

function capturingLogger(lines: string[]): Logger {
  const logger: Logger = {
    info: () => {},
    warn: (obj, msg) => lines.push(typeof obj === 'string' ? obj : (msg ?? '')),
    error: () => {},
    debug: () => {},
    child: () => logger,
  };
  return logger;
}

describe('evaluation errors at run time', () => {
  it('count every failure in incidentd_rule_evaluation_errors_total and log once per rule and reason', async () => {
    const metrics = createMetrics({ countActive: () => Promise.resolve({ minor: 0, medium: 0, severe: 0, major: 0 }) });
    const logged: string[] = [];
    const report = evaluationErrorReporter(capturingLogger(logged), (r, reason) => metrics.ruleEvaluationErrors.inc({ rule: r, reason }));
    // Passes the checker: values are only known at run time.
    const { engine, issues } = compileRules(
      [rule('slow-connect', 'check.type == "tcp" && values.connectMs > 100')],
      UNCATEGORIZED,
      { evaluationError: report },
    );
    expect(issues).toEqual([]);
    const tcp = { check: { name: 'port', type: 'tcp' } };
    for (let i = 0; i < 3; i++) {
      // A sender that gives the measurement as text: no '>' for a string and an int.
      expect(engine.classify(signal({ ...tcp, values: { connectMs: 'slow' } })).map((m) => m.ruleId)).toEqual(['uncategorized']);
      // No such measurement at all.
      expect(engine.classify(signal({ ...tcp, values: {} })).map((m) => m.ruleId)).toEqual(['uncategorized']);
    }
    expect(engine.classify(signal({ ...tcp, values: { connectMs: 250 } })).map((m) => m.ruleId)).toEqual(['slow-connect']);

    const text = await metrics.registry.getSingleMetricAsString('incidentd_rule_evaluation_errors_total');
    expect(text).toContain('incidentd_rule_evaluation_errors_total{rule="slow-connect",reason="error"} 3');
    expect(text).toContain('incidentd_rule_evaluation_errors_total{rule="slow-connect",reason="missing_key"} 3');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/^rule "slow-connect": its condition failed to evaluate: .*logged once per rule and reason/);
    expect(logged[1]).toContain('test for it first with has(');
  });
});
