// CEL conditions for rule `when` expressions: parsed and checked once at load, evaluated per signal.
// The parts live next to this file: the static checks (./cel-check.ts), the cost bound and the
// evaluation environment (./cel-cost.ts), the values read from a signal (./cel-bindings.ts) and the
// guards that decide a condition without the evaluator (./cel-guards.ts).
import { isCelError, parse, plan } from '@bufbuild/cel';
import { errorMessage, type ParsedExpr } from './cel-ast.js';
import type { WhenBindings } from './cel-bindings.js';
import { nestedComprehension, StaticChecker, type CelProblem } from './cel-check.js';
import { ENV, MAX_EVALUATION_COST, meterComprehensions, withinBudget } from './cel-cost.js';
import { guardsOf } from './cel-guards.js';

export { WhenBindings, whenBindings } from './cel-bindings.js';
export { formatCelProblem, WHEN_VARIABLES, type CelProblem } from './cel-check.js';
export { MAX_EVALUATION_COST } from './cel-cost.js';

/** Why a condition failed to evaluate; a label of the evaluation error metric, so a short fixed set. */
export type EvaluationErrorReason = 'cost' | 'missing_key' | 'not_boolean' | 'error';

export type WhenOutcome = { ok: true; value: boolean } | { ok: false; kind: EvaluationErrorReason; reason: string };

/** A top-level conjunct `<fixed field> == "x"` or `in [...]`: the condition is false unless it holds. */
export interface FieldGuard {
  /** `source`, `check.type`, `target.kind`… */
  readonly field: string;
  readonly oneOf: ReadonlySet<string>;
}

export interface CompiledWhen {
  readonly source: string;
  /** Conjuncts on fixed fields; the rule engine's prefilter skips the rule when one does not hold. */
  readonly fieldGuards: readonly FieldGuard[];
  evaluate(bindings: WhenBindings): WhenOutcome;
}

const FALSE: WhenOutcome = { ok: true, value: false };
const TRUE: WhenOutcome = { ok: true, value: true };

export type CompileWhenResult =
  | { ok: true; when: CompiledWhen; warning: CelProblem | undefined }
  | { ok: false; problem: CelProblem };

export function compileWhen(source: string, maxCost: number = MAX_EVALUATION_COST): CompileWhenResult {
  let parsed: ParsedExpr;
  try {
    parsed = parse(source);
  } catch (err) {
    return { ok: false, problem: parseProblem(err) };
  }
  const checker = new StaticChecker(source, parsed);
  const problem = checker.run();
  if (problem) return { ok: false, problem };
  const nested = nestedComprehension(parsed.expr);
  const warning = nested
    ? checker.problemAt(
        nested.id,
        'comprehensions nested over signal data: the cost grows with the square of the size of labels or values; ' +
          `an evaluation past ${maxCost} steps stops with an error and the rule does not match`,
      )
    : undefined;
  const { guards, complete } = guardsOf(parsed.expr);
  meterComprehensions(parsed.expr);
  // The evaluator reads variables by property name, which the bindings' activation answers.
  let run: (ctx: object) => unknown;
  try {
    run = plan(ENV, parsed) as unknown as (ctx: object) => unknown;
  } catch (err) {
    return { ok: false, problem: { line: 1, column: 1, message: errorMessage(err) } };
  }
  return {
    ok: true,
    warning,
    when: {
      source,
      fieldGuards: guards.flatMap((g) => (g.kind !== 'value' || g.field === undefined ? [] : [{ field: g.field, oneOf: g.oneOf }])),
      evaluate(bindings: WhenBindings): WhenOutcome {
        let decided = complete;
        for (const g of guards) {
          if (g.kind === 'key') {
            if (!g.present(bindings.signal)) return FALSE;
            continue;
          }
          const v = g.read(bindings.signal);
          if (typeof v !== 'string') decided = false;
          else if (!g.oneOf.has(v)) return FALSE;
        }
        // Every conjunct is a guard and each one held: the conjunction is true.
        if (decided) return TRUE;
        const { result, exceeded } = withinBudget(maxCost, () => run(bindings.activation));
        // Checked first: past the budget, `false || error` and the like must not turn into a value.
        if (exceeded) {
          return {
            ok: false,
            kind: 'cost',
            reason: `stopped: evaluating it cost more than ${maxCost} steps (comprehensions and string functions pay for the size of the labels and values they walk)`,
          };
        }
        if (isCelError(result)) {
          const missing = /field not found|no such key/.test(result.message);
          const hint = missing ? ' (the signal has no such key; test for it first with has(...))' : '';
          return { ok: false, kind: missing ? 'missing_key' : 'error', reason: `failed to evaluate: ${result.message}${hint}` };
        }
        if (typeof result !== 'boolean') {
          return { ok: false, kind: 'not_boolean', reason: `evaluated to ${describeValue(result)}, not a boolean` };
        }
        return result ? TRUE : FALSE;
      },
    },
  };
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'bigint') return `the integer ${v}`;
  if (v === null) return 'null';
  if (v instanceof Map) return 'a map';
  if (Array.isArray(v) || (typeof v === 'object' && Symbol.iterator in v)) return 'a list or map';
  return `a ${typeof v}`;
}

function parseProblem(err: unknown): CelProblem {
  // The parser's errors carry `rawMessage` and a `location`; their `message` repeats the position
  // as "<input>:1:5:", which means nothing to a rule author.
  const e = err as { rawMessage?: unknown; location?: { start?: { line?: unknown; column?: unknown } } };
  const line = e.location?.start?.line;
  const column = e.location?.start?.column;
  const raw = typeof e.rawMessage === 'string' ? e.rawMessage : errorMessage(err);
  return {
    line: typeof line === 'number' ? line : 1,
    column: typeof column === 'number' ? column : 1,
    message: `syntax error: ${raw}`,
  };
}

