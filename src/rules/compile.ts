// Compiles admin-written rules once at load (CEL conditions, templates, dedup paths) into a
// RuleEngine that classifies failing signals: first match wins unless a rule says `continue`.
import { priorityOf, type Classification, type Severity } from '../domain/classification.js';
import { severityOfHint } from './severity-hint.js';
import type { Signal } from '../domain/signal.js';
import type { IncidentPolicy } from '../config-core/types.js';
import type { RuleConfig } from './config.js';
import type { Evaluation, Explanation, RuleEngine, RuleEngineHooks, RuleMatch, RuleTrace, ShadowedRule } from './types.js';

export type { RuleEngineHooks };
import { compileWhen, formatCelProblem, whenBindings, type CompiledWhen, type WhenBindings } from './cel.js';
import { compileTemplate, type CompiledTemplate } from './templates.js';
import { compileDedup, DEFAULT_DEDUP_BY, type CompiledDedup } from './dedup.js';
import { RulePrefilter } from './prefilter.js';

export interface RuleIssue {
  /** Index into the rules array given to compileRules. */
  index: number;
  field: 'when' | 'title' | 'description' | 'runbook' | 'dedup_by';
  message: string;
}

export const UNCATEGORIZED_RULE_ID = 'uncategorized';
export const UNCATEGORIZED_TITLE = '{{target.name}}: {{check.name}} failing';
/** An alert (any source but probe) names a problem, not a check: "DiskAlmostFull on File server". */
export const UNCATEGORIZED_ALERT_TITLE = '{{check.name}} on {{target.name}}';
/** An alert with a name and a summary annotation (Alertmanager's convention): "HighLatency: p99 above 2 s". */
export const UNCATEGORIZED_SUMMARY_TITLE = '{{check.name}}: {{annotations.summary}}';
/** An alert with a summary but no name (a PagerDuty event, whose summary is its title). */
export const UNCATEGORIZED_UNNAMED_TITLE = '{{annotations.summary}}';
export const UNCATEGORIZED_DESCRIPTION =
  'No rule matched this failing signal from {{source}}: {{message}}';

/** What turns a signal into a RuleMatch once a rule (or the default) applies. */
interface MatchSpec {
  id: string;
  classification: Classification;
  title: CompiledTemplate;
  description: CompiledTemplate;
  runbook: CompiledTemplate;
  hint: string | null;
  dedup: CompiledDedup;
  openAfter: number;
  resolveAfter: number;
}

interface CompiledRule extends MatchSpec {
  when: CompiledWhen;
  continue: boolean;
}

/**
 * Compiles every rule and reports every problem found, not only the first. Rules with problems are
 * left out of the returned engine; a loader should refuse the configuration when issues is not empty.
 * Warnings (a condition whose cost grows with the square of the signal's size) do not stop a rule.
 */
export function compileRules(
  rules: RuleConfig[],
  uncategorized: IncidentPolicy['uncategorized'],
  hooks: RuleEngineHooks = {},
): { engine: RuleEngine; issues: RuleIssue[]; warnings: RuleIssue[] } {
  const issues: RuleIssue[] = [];
  const warnings: RuleIssue[] = [];
  const compiled: CompiledRule[] = [];
  rules.forEach((rule, index) => {
    const before = issues.length;
    const when = compileWhen(rule.when);
    if (!when.ok) issues.push({ index, field: 'when', message: formatCelProblem(when.problem, rule.when) });
    else if (when.warning) warnings.push({ index, field: 'when', message: formatCelProblem(when.warning, rule.when) });
    const templates = (['title', 'description', 'runbook'] as const).map((field) => {
      const t = compileTemplate(rule[field]);
      if (!t.ok) issues.push({ index, field, message: t.message });
      return t.ok ? t.template : null;
    });
    const dedup = compileDedup(rule.dedupBy);
    if (!dedup.ok) for (const message of dedup.messages) issues.push({ index, field: 'dedup_by', message });
    if (issues.length > before || !when.ok || !dedup.ok) return;
    const [title, description, runbook] = templates as [CompiledTemplate, CompiledTemplate, CompiledTemplate];
    compiled.push({
      id: rule.id,
      when: when.when,
      classification: classificationOf(rule.classify),
      title,
      description,
      runbook,
      hint: rule.hint ?? null,
      dedup: dedup.dedup,
      openAfter: rule.openAfter,
      resolveAfter: rule.resolveAfter,
      continue: rule.continue,
    });
  });
  const fallbacks: Fallbacks = {
    policySeverity: uncategorized.severity,
    probe: defaultRule(uncategorized, UNCATEGORIZED_TITLE),
    alert: bySeverity(defaultRule(uncategorized, UNCATEGORIZED_ALERT_TITLE)),
    summary: bySeverity(defaultRule(uncategorized, UNCATEGORIZED_SUMMARY_TITLE)),
    unnamed: bySeverity(defaultRule(uncategorized, UNCATEGORIZED_UNNAMED_TITLE)),
  };
  return { engine: new CompiledRuleEngine(compiled, fallbacks, hooks), issues, warnings };
}

function classificationOf(c: RuleConfig['classify']): Classification {
  return { category: c.category, severity: c.severity, impact: c.impact, tier: c.tier, priority: priorityOf(c.impact, c.severity) };
}

function defaultRule(uncategorized: IncidentPolicy['uncategorized'], titleTemplate: string): MatchSpec {
  const title = compileTemplate(titleTemplate);
  const description = compileTemplate(UNCATEGORIZED_DESCRIPTION);
  const runbook = compileTemplate('');
  const dedup = compileDedup(DEFAULT_DEDUP_BY);
  if (!title.ok || !description.ok || !runbook.ok || !dedup.ok) {
    // Constant inputs: this only happens if the code above is edited wrongly.
    throw new Error('the built-in uncategorized rule does not compile');
  }
  return {
    id: UNCATEGORIZED_RULE_ID,
    classification: classificationOf(uncategorized),
    title: title.template,
    description: description.template,
    runbook: runbook.template,
    hint: null,
    dedup: dedup.dedup,
    openAfter: 1,
    resolveAfter: 1,
  };
}

/** The uncategorized default for alerts, made once per severity class (the policy's own included). */
type SpecBySeverity = Readonly<Record<Severity, MatchSpec>>;

/** The uncategorized default, by the title that fits what the signal carries. */
interface Fallbacks {
  /** incidents.uncategorized.severity */
  policySeverity: Severity;
  probe: MatchSpec;
  alert: SpecBySeverity;
  summary: SpecBySeverity;
  unnamed: SpecBySeverity;
}

function bySeverity(spec: MatchSpec): SpecBySeverity {
  const c = spec.classification;
  const at = (severity: Severity): MatchSpec =>
    severity === c.severity ? spec : { ...spec, classification: { ...c, severity, priority: priorityOf(c.impact, severity) } };
  return { minor: at('minor'), medium: at('medium'), severe: at('severe'), major: at('major') };
}

/** What evaluate() found, answering observed() without a list of the rules evaluated. */
class RuleEvaluation implements Evaluation {
  constructor(
    readonly matches: RuleMatch[],
    private readonly positions: ReadonlyMap<string, number>,
    /** Index of the last rule evaluated; all rules when evaluation ran to the end. */
    private readonly last: number,
    /** Indexes of rules whose condition failed to evaluate (a missing value); usually null. */
    private readonly errors: number[] | null,
  ) {}

  observed(ruleId: string): boolean {
    // "No rule matches" is decided by every evaluation: either it fires, or some rule matched.
    if (ruleId === UNCATEGORIZED_RULE_ID) return true;
    const i = this.positions.get(ruleId);
    // A rule removed by a reload: its condition no longer exists, so nothing holds its incident.
    if (i === undefined) return true;
    return i <= this.last && (this.errors === null || !this.errors.includes(i));
  }
}

class CompiledRuleEngine implements RuleEngine {
  private readonly positions: ReadonlyMap<string, number>;
  /** Which rules could match a signal at all, by its source, check type and target kind. */
  private readonly prefilter: RulePrefilter;

  constructor(
    private readonly rules: readonly CompiledRule[],
    private readonly fallbacks: Fallbacks,
    private readonly hooks: RuleEngineHooks,
  ) {
    this.positions = new Map(rules.map((r, i) => [r.id, i]));
    this.prefilter = new RulePrefilter(rules.map((r) => r.when));
  }

  /**
   * The uncategorized default; same id and fingerprint whatever the signal, only the title and
   * severity differ. An alert is titled from where its format carries a title (a summary, with
   * the alert's name when it has one), and classified with the severity class its sender's word
   * names (labels.severity: critical, P1, warning…) when it names one.
   */
  private fallbackMatch(signal: Signal): RuleMatch {
    if (signal.source === 'probe') return this.match(this.fallbacks.probe, signal);
    const summary = signal.annotations.summary;
    const spec =
      summary === undefined || summary === ''
        ? this.fallbacks.alert
        : signal.labels.alertname === undefined || signal.labels.alertname === ''
          ? this.fallbacks.unnamed
          : this.fallbacks.summary;
    // A word it does not know (or none): the severity of incidents.uncategorized.
    const severity = severityOfHint(signal.labels.severity) ?? this.fallbacks.policySeverity;
    return this.match(spec[severity], signal);
  }

  /** A match, its title behind the tenant's prefix when the signal's tenant has one ("[ACME] …"). */
  private match(rule: MatchSpec, signal: Signal): RuleMatch {
    const tenant = signal.target.tenant;
    const prefix = tenant === undefined ? null : (this.hooks.titlePrefix?.(tenant) ?? null);
    return matchOf(rule, signal, prefix);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  hintOf(ruleId: string): string | null {
    const at = this.positions.get(ruleId);
    return at === undefined ? null : (this.rules[at]?.hint ?? null);
  }

  classify(signal: Signal): RuleMatch[] {
    return this.evaluate(signal).matches;
  }

  evaluate(signal: Signal): Evaluation {
    const matches: RuleMatch[] = [];
    if (signal.status !== 'fail') return new RuleEvaluation(matches, this.positions, this.rules.length - 1, null);
    const bindings = whenBindings(signal);
    let errors: number[] | null = null;
    // The rules left out could not match: their conditions would be false without an error, so
    // they still count as observed (RuleEvaluation goes by position, not by what was run).
    const candidates = this.prefilter.candidates(signal);
    for (let c = 0; c < candidates.length; c++) {
      const i = candidates[c]!;
      const rule = this.rules[i]!;
      const outcome = rule.when.evaluate(bindings);
      if (!outcome.ok) {
        // An error is no match: the next rule (or the uncategorized default) classifies the signal.
        this.hooks.evaluationError?.(rule.id, outcome.kind, outcome.reason);
        errors = errors === null ? [i] : errors.concat(i);
        continue;
      }
      if (!outcome.value) continue;
      matches.push(this.match(rule, signal));
      if (!rule.continue) return new RuleEvaluation(matches, this.positions, i, errors);
    }
    if (matches.length === 0) matches.push(this.fallbackMatch(signal));
    return new RuleEvaluation(matches, this.positions, this.rules.length - 1, errors);
  }

  explain(signal: Signal): Explanation {
    if (signal.status !== 'fail') return { matches: [], trace: [], usedDefault: false, shadowed: [] };
    const bindings: WhenBindings = whenBindings(signal);
    const matches: RuleMatch[] = [];
    const trace: RuleTrace[] = [];
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const cannot = this.prefilter.cannotMatch(i, signal);
      if (cannot !== null) {
        trace.push({ ruleId: rule.id, matched: false, reason: `cannot match: ${cannot} (not evaluated)` });
        continue;
      }
      const outcome = rule.when.evaluate(bindings);
      if (!outcome.ok) {
        trace.push({ ruleId: rule.id, matched: false, reason: `when ${outcome.reason}` });
        continue;
      }
      if (!outcome.value) {
        trace.push({ ruleId: rule.id, matched: false, reason: 'when was false' });
        continue;
      }
      matches.push(this.match(rule, signal));
      if (rule.continue) {
        trace.push({ ruleId: rule.id, matched: true, reason: 'when was true; continue is set, so later rules are evaluated too' });
      } else {
        trace.push({ ruleId: rule.id, matched: true, reason: 'when was true; first match wins: later rules do not classify this signal' });
        return { matches, trace, usedDefault: false, shadowed: this.shadowedBy(rule.id, i + 1, signal, bindings) };
      }
    }
    if (matches.length > 0) return { matches, trace, usedDefault: false, shadowed: [] };
    matches.push(this.fallbackMatch(signal));
    return { matches, trace, usedDefault: true, shadowed: [] };
  }

  /** The rules from index `from` on whose condition is also true: classification never gets to them. */
  private shadowedBy(winner: string, from: number, signal: Signal, bindings: WhenBindings): ShadowedRule[] {
    const shadowed: ShadowedRule[] = [];
    for (let j = from; j < this.rules.length; j++) {
      if (this.prefilter.cannotMatch(j, signal) !== null) continue;
      const later = this.rules[j]!;
      const outcome = later.when.evaluate(bindings);
      if (outcome.ok && outcome.value) shadowed.push({ ruleId: later.id, by: winner });
    }
    return shadowed;
  }
}

function matchOf(rule: MatchSpec, signal: Signal, prefix: string | null): RuleMatch {
  return new LazyMatch(rule, signal, prefix);
}

/**
 * A match whose title, description and runbook are rendered when first read, then kept. A repeat
 * of an active incident mostly needs only the fingerprint and classification, so rendering every
 * alert's templates up front cost CPU for text nobody read. Reading gives the same text as
 * rendering at match time: nothing changes the signal or rule after classification. A class with
 * private fields: an object literal with accessors costs about 1 µs to make, more than most
 * renderings; toJSON gives the rendered plain match.
 */
class LazyMatch implements RuleMatch {
  readonly ruleId: string;
  readonly classification: Classification;
  readonly hint: string | null;
  readonly fingerprint: string;
  readonly openAfter: number;
  readonly resolveAfter: number;
  readonly #spec: MatchSpec;
  readonly #signal: Signal;
  /** The tenant's title prefix (tenants[].title_prefix): "[ACME] Printer 3F offline". */
  readonly #prefix: string | null;
  #title: string | undefined = undefined;
  #description: string | undefined = undefined;
  #runbook: string | undefined = undefined;

  constructor(spec: MatchSpec, signal: Signal, prefix: string | null) {
    this.ruleId = spec.id;
    // Built field by field: object spread here cost more than the rest of the match together.
    this.classification = {
      category: spec.classification.category,
      severity: spec.classification.severity,
      impact: spec.classification.impact,
      tier: spec.classification.tier,
      priority: spec.classification.priority,
    };
    this.hint = spec.hint;
    this.fingerprint = spec.dedup.fingerprint(signal, spec.id);
    this.openAfter = spec.openAfter;
    this.resolveAfter = spec.resolveAfter;
    this.#spec = spec;
    this.#signal = signal;
    this.#prefix = prefix;
  }

  get title(): string {
    if (this.#title === undefined) {
      const t = this.#spec.title.render(this.#signal, this.#spec);
      this.#title = this.#prefix === null ? t : `[${this.#prefix}] ${t}`;
    }
    return this.#title;
  }

  set title(v: string) {
    this.#title = v;
  }

  get description(): string {
    return (this.#description ??= this.#spec.description.render(this.#signal, this.#spec));
  }

  set description(v: string) {
    this.#description = v;
  }

  get runbook(): string {
    return (this.#runbook ??= this.#spec.runbook.render(this.#signal, this.#spec));
  }

  set runbook(v: string) {
    this.#runbook = v;
  }

  toJSON(): RuleMatch {
    return {
      ruleId: this.ruleId,
      classification: this.classification,
      title: this.title,
      description: this.description,
      runbook: this.runbook,
      hint: this.hint,
      fingerprint: this.fingerprint,
      openAfter: this.openAfter,
      resolveAfter: this.resolveAfter,
    };
  }
}
