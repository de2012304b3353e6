// Turns the engine's evaluation errors into a count for every one and a log line for the first of
// each rule and reason: a rule that fails on every signal must not flood the log.
import type { Logger } from '../shared/logger.js';
import type { EvaluationErrorReason } from './cel.js';

export function evaluationErrorReporter(
  logger: Logger,
  count: (ruleId: string, reason: EvaluationErrorReason) => void,
): (ruleId: string, reason: EvaluationErrorReason, message: string) => void {
  // Bounded by the rules written times the few reasons.
  const logged = new Set<string>();
  return (ruleId, reason, message) => {
    count(ruleId, reason);
    const key = `${ruleId}\u0000${reason}`;
    if (logged.has(key)) return;
    logged.add(key);
    logger.warn(
      { rule: ruleId, reason },
      `rule "${ruleId}": its condition ${message}; the rule does not match such signals ` +
        '(logged once per rule and reason; every occurrence is counted in incidentd_rule_evaluation_errors_total)',
    );
  };
}
