import type { Classification } from '../domain/classification.js';
import type { Signal } from '../domain/signal.js';
import type { EvaluationErrorReason } from './cel.js';

export type { EvaluationErrorReason };

/** What the engine reports while it classifies; the app connects these to logs and metrics. */
export interface RuleEngineHooks {
  /**
   * A rule's condition failed to evaluate for a signal (it then counts as not matching, and the
   * next rule or the uncategorized default classifies). Called for every failure: the receiver
   * decides what to log.
   */
  evaluationError?: (ruleId: string, reason: EvaluationErrorReason, message: string) => void;
  /**
   * The prefix of a tenant's incident titles (tenants[].title_prefix), put in brackets before the
   * rendered title: "[ACME] Printer 3F offline". null or absent: titles as rendered.
   */
  titlePrefix?: (tenant: string) => string | null;
}

/** What a rule made of a failing signal. */
export interface RuleMatch {
  ruleId: string;
  classification: Classification;
  title: string;
  description: string;
  runbook: string;
  /** The rule's self-help for reporters (`hint:`); absent or null: none. */
  hint?: string | null;
  fingerprint: string;
  openAfter: number;
  resolveAfter: number;
}

export interface RuleTrace {
  ruleId: string;
  matched: boolean;
  /** Why it did not match (the expression was false, or failed to evaluate with this error). */
  reason: string;
}

export interface Explanation {
  matches: RuleMatch[];
  /** Every rule looked at, in order, until evaluation stopped. */
  trace: RuleTrace[];
  /** True when no rule matched and the uncategorized default was applied. */
  usedDefault: boolean;
  /**
   * Rules after the first match (without continue) whose condition is also true for this signal:
   * they never classify it, because `by` wins. Usually a sign that a rule is in the wrong order.
   */
  shadowed: ShadowedRule[];
}

export interface ShadowedRule {
  ruleId: string;
  /** The rule that wins. */
  by: string;
}

/**
 * One failing signal run through the rules: what matched, and which rules' conditions were looked
 * at. A rule that was not evaluated (an earlier rule won, or its condition could not be evaluated on
 * this signal's values) says nothing about its condition, so its incident must not count this
 * signal as a recovery.
 */
export interface Evaluation {
  matches: RuleMatch[];
  /**
   * True when rule `ruleId`'s condition was evaluated against this signal (true or false), or the
   * rule is no longer configured. Always true for the uncategorized default: every evaluation
   * decides whether no rule matches.
   */
  observed(ruleId: string): boolean;
}

export interface RuleEngine {
  readonly ruleCount: number;
  /**
   * Classifies a failing signal: first match wins unless the rule says `continue`. Never empty
   * for a failing signal (the uncategorized default applies). Empty for an ok signal.
   */
  classify(signal: Signal): RuleMatch[];
  /** classify, plus which rules were evaluated (for recoveries of the conditions that cleared). */
  evaluate(signal: Signal): Evaluation;
  explain(signal: Signal): Explanation;
  /** The self-help hint of rule `ruleId` (`hint:`); null when it has none or is not configured. */
  hintOf(ruleId: string): string | null;
}
