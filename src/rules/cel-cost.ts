// The cost bound of `when` evaluations and the evaluation environment that enforces it.
import {
  celEnv,
  celFunc,
  celList,
  celMethod,
  CelScalar,
  isCelList,
  isCelMap,
  type CelEnv,
  type CelFunc,
  type CelInput,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { Expr } from './cel-ast.js';
import { childrenOf, maxId } from './cel-ast.js';

// The environment declares no variables: the evaluator resolves names from the activation at run
// time, and the StaticChecker (./cel-check.ts) stands in for the type checker the library does not
// export. `strings` adds lowerAscii, upperAscii, replace, split, trim, indexOf, substring, join, format…
export const BASE_ENV: CelEnv = celEnv({ funcs: strings });

// ---------------------------------------------------------------------------------------------
// Cost bound. The evaluator has no step limit or interrupt, so one condition over a long label
// (a comprehension nested in a comprehension, or a string function called per character) could
// hold the event loop for seconds. Every evaluation therefore runs against a budget: each
// comprehension pays for its range and for every iteration (through two internal functions
// wrapped around its range and loop condition when the condition is compiled), and each function
// call pays for the size of what it was given. Past the budget the next charge throws, which the
// evaluator turns into an error that ends the evaluation. Counting steps, not time, keeps the
// result the same for the same signal on any machine.

/**
 * What one evaluation of a condition may cost, in units of roughly a quarter of a microsecond of
 * this evaluator's work (measured with bench/rule-cost.ts): a condition that reaches the bound
 * has used some tens of milliseconds at most, and ordinary rules stay far below it (walking 60
 * labels of 100 characters costs about 7,000).
 */
export const MAX_EVALUATION_COST = 50_000;

/** One comprehension iteration: the evaluator's own work per item (scopes, variable lookup). */
const ITERATION_COST = 20;

/** Functions whose work on a string runs in native code: they pay one unit per 8 characters. */
const NATIVE_STRING_FUNCTIONS = new Set([
  '_==_',
  '_!=_',
  '_<_',
  '_<=_',
  '_>_',
  '_>=_',
  '_+_',
  'contains',
  'startsWith',
  'endsWith',
  'indexOf',
  'lastIndexOf',
  'split',
  'substring',
  'charAt',
  'string',
]);
const NATIVE_CHARS_PER_UNIT = 8;
/** RE2 runs in JavaScript but in linear time, a few times slower than native string search. */
const REGEX_CHARS_PER_UNIT = 4;

/** The budget of the evaluation under way; null outside an evaluation (compile time, tests of the env). */
let meter: { spent: number; limit: number } | null = null;

class CostExceeded extends Error {}

function charge(units: number): void {
  const m = meter;
  if (m === null) return;
  m.spent += units;
  if (m.spent > m.limit) throw new CostExceeded(`evaluation cost exceeded ${m.limit} steps`);
}

function sizeOf(v: unknown, perChar: number): number {
  if (typeof v === 'string') return v.length * perChar;
  if (v instanceof Uint8Array) return v.length * perChar;
  if (isCelList(v) || isCelMap(v)) return v.size;
  return 0;
}

/** The library's function, charging for its inputs once an overload has accepted them. */
function metered(f: CelFunc): CelFunc {
  const perChar = NATIVE_STRING_FUNCTIONS.has(f.name)
    ? 1 / NATIVE_CHARS_PER_UNIT
    : f.name === 'matches'
      ? 1 / REGEX_CHARS_PER_UNIT
      : f.name === 'size'
        ? 0
        : 1;
  const concat = f.name === '_+_';
  const wrapped: CelFunc = Object.create(f) as CelFunc;
  Object.defineProperty(wrapped, 'call', {
    value(id: number, target: unknown, args: unknown[]): unknown {
      const result = (f.call as (id: number, target: unknown, args: unknown[]) => unknown)(id, target, args);
      if (result === undefined) return undefined; // not this overload: the next one is tried
      // What it was given and what it made: a result larger than the inputs was built too.
      let cost = 1 + sizeOf(target, perChar) + (typeof result === 'string' ? result.length * perChar : 0);
      for (const a of args) cost += sizeOf(a, perChar);
      charge(Math.ceil(cost));
      // The library joins lists lazily into a chain that is walked once per level on every read,
      // so a list built in a comprehension costs its length squared to read; join them flat instead.
      if (concat && isCelList(result) && args.length === 2 && isCelList(args[0]) && isCelList(args[1])) {
        return celList([...(args[0]), ...(args[1])]);
      }
      return result;
    },
  });
  return wrapped;
}

/** Internal: wraps a comprehension's range; pays for copying it before the first iteration. */
const COST_RANGE = '@cost_range';
/** Internal: wraps a comprehension's loop condition; pays for each iteration. */
const COST_STEP = '@cost_step';

/**
 * `replace` as the strings extension defines it (the first `num` occurrences, left to right, all
 * when `num` is absent), in linear time: the library's own rebuilds the whole string per
 * occurrence, so one call on a 30,000-character label took over half a second.
 */
function replaceLinear(this: string, substr: string, repl: string, num?: bigint): string {
  const count = num === undefined ? this.length : Number(num);
  if (count <= 0) return this;
  if (substr === '') {
    // The library inserts `repl` `count` times at the start; the size is paid before it is built.
    charge(Math.ceil((repl.length * count) / NATIVE_CHARS_PER_UNIT));
    return repl.repeat(count) + this;
  }
  const parts: string[] = [];
  let pos = 0;
  for (let done = 0; done < count; done++) {
    const index = this.indexOf(substr, pos);
    if (index === -1) break;
    parts.push(this.slice(pos, index), repl);
    pos = index + substr.length;
  }
  parts.push(this.slice(pos));
  return parts.join('');
}

export const ENV: CelEnv = celEnv({
  funcs: [
    // Same signatures as the library's own, so each replaces the one it wraps.
    ...[...BASE_ENV.funcs].map(metered),
    metered(celMethod('replace', CelScalar.STRING, [CelScalar.STRING, CelScalar.STRING], CelScalar.STRING, replaceLinear)),
    metered(
      celMethod('replace', CelScalar.STRING, [CelScalar.STRING, CelScalar.STRING, CelScalar.INT], CelScalar.STRING, function (
        this: string,
        substr: string,
        repl: string,
        num: bigint,
      ) {
        return replaceLinear.call(this, substr, repl, num);
      }),
    ),
    celFunc(COST_RANGE, [CelScalar.DYN], CelScalar.DYN, (range: unknown) => {
      charge(1 + sizeOf(range, 1));
      return range as CelInput;
    }),
    celFunc(COST_STEP, [CelScalar.DYN], CelScalar.DYN, (condition: unknown) => {
      charge(ITERATION_COST);
      return condition as CelInput;
    }),
  ],
});

/**
 * Runs one evaluation against a budget of `limit` steps; `exceeded` says whether it went past it
 * (then the result must not be trusted: `false || error` and the like may have turned into a value).
 */
export function withinBudget<T>(limit: number, evaluate: () => T): { result: T; exceeded: boolean } {
  const budget = { spent: 0, limit };
  meter = budget;
  try {
    const result = evaluate();
    return { result, exceeded: budget.spent > budget.limit };
  } finally {
    meter = null;
  }
}

/**
 * Wraps every comprehension's range and loop condition in the internal cost functions. Their
 * names start with "@", which no expression can write, so an author cannot call or shadow them.
 */
export function meterComprehensions(root: Expr): void {
  let nextId = maxId(root) + 1n;
  const wrap = (fn: string, arg: Expr): Expr =>
    ({
      $typeName: 'cel.expr.Expr',
      id: nextId++,
      exprKind: { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: fn, args: [arg] } },
    });
  const visit = (e: Expr | undefined): void => {
    if (!e) return;
    for (const child of childrenOf(e)) visit(child);
    if (e.exprKind.case === 'comprehensionExpr') {
      const c = e.exprKind.value;
      if (c.iterRange) c.iterRange = wrap(COST_RANGE, c.iterRange);
      if (c.loopCondition) c.loopCondition = wrap(COST_STEP, c.loopCondition);
    }
  };
  visit(root);
}

