// CEL conditions for rule `when` expressions: parsed and checked once at load, evaluated per signal.
//
// @bufbuild/cel parses and evaluates but does not export a type checker (its internal one only
// knows constants and identifiers), so the static checks a rule author needs live here: unknown
// variables, unknown fields of `target`/`check`, unknown functions, fields selected from scalars,
// comparisons between a string and a number, and a result that cannot be a boolean.
import {
  celEnv,
  celFunc,
  celList,
  celMethod,
  celMap,
  CelScalar,
  isCelError,
  isCelList,
  isCelMap,
  parse,
  plan,
  type CelEnv,
  type CelFunc,
  type CelInput,
  type CelList,
  type CelMap,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { Signal } from '../domain/signal.js';
import {
  fieldLeaf,
  fieldRoot,
  isMapField,
  mapReader,
  stringReader,
  VISIBLE_SIGNAL_FIELDS,
  type SignalField,
  type SignalFieldType,
} from './signal-fields.js';

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];

/** What the checker knows about an expression's type; `dyn` means "only known at run time". */
type StaticType =
  | { kind: 'string' | 'bool' | 'double' | 'int' | 'uint' | 'bytes' | 'null' | 'dyn' }
  | { kind: 'list'; elem: StaticType }
  | { kind: 'map'; value: StaticType }
  | { kind: 'struct'; name: string; fields: Record<string, StaticType> };

const STRING: StaticType = { kind: 'string' };
const BOOL: StaticType = { kind: 'bool' };
const INT: StaticType = { kind: 'int' };
const DYN: StaticType = { kind: 'dyn' };
const STRING_MAP: StaticType = { kind: 'map', value: STRING };

const STATIC_TYPES: Record<SignalFieldType, StaticType> = {
  string: STRING,
  'string-map': STRING_MAP,
  'value-map': { kind: 'map', value: DYN },
  'string-list': { kind: 'list', elem: STRING },
  'epoch-ms': INT,
};

/** The variables a `when` expression may use, with their shapes: the table of ./signal-fields.ts. */
const VARIABLES: Record<string, StaticType> = {};
for (const f of VISIBLE_SIGNAL_FIELDS) {
  const root = fieldRoot(f);
  const leaf = fieldLeaf(f);
  if (leaf === null) {
    VARIABLES[root] = STATIC_TYPES[f.type];
  } else {
    const struct = (VARIABLES[root] ??= { kind: 'struct', name: root, fields: {} });
    if (struct.kind === 'struct') struct.fields[leaf] = STATIC_TYPES[f.type];
  }
}

export const WHEN_VARIABLES: readonly string[] = Object.keys(VARIABLES);

// Operators the evaluator implements itself rather than through its function table.
const BUILTIN_OPERATORS = new Set([
  '_[_]',
  '_[?_]',
  '_?._',
  '_?_:_',
  '_&&_',
  '_||_',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

const COMPARISONS = new Set(['_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_']);
const BOOL_RESULTS = new Set([
  ...COMPARISONS,
  '_&&_',
  '_||_',
  '!_',
  '@in',
  '_in_',
  'startsWith',
  'endsWith',
  'contains',
  'matches',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

// The environment declares no variables: the evaluator resolves names from the activation at run
// time, and the StaticChecker below stands in for the type checker the library does not export.
// `strings` adds lowerAscii, upperAscii, replace, split, trim, indexOf, substring, join, format…
const BASE_ENV: CelEnv = celEnv({ funcs: strings });
const KNOWN_FUNCTIONS = new Set<string>([...BASE_ENV.funcs].map((f) => f.name));

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
        return celList([...args[0], ...args[1]]);
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

const ENV: CelEnv = celEnv({
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

/** A problem found in an expression, with its 1-based position within the expression. */
export interface CelProblem {
  line: number;
  column: number;
  message: string;
}

export function formatCelProblem(p: CelProblem, source: string): string {
  const where = source.includes('\n') ? `line ${p.line}, column ${p.column}` : `column ${p.column}`;
  return `${where}: ${p.message}`;
}

/**
 * The values a compiled condition reads, made once per signal and shared by every rule. Nothing is
 * converted up front: most rules are decided by their guards from the signal itself, and the CEL
 * values (and the activation) are built only when a rule first needs the evaluator. Besides the
 * variables it answers the fixed fields under their dotted names ("target.kind"): the evaluator
 * looks a dotted name up as a whole before walking into the map, and a miss there costs a slow
 * search of the type registry on every evaluation.
 */
export class WhenBindings {
  private cache: Map<string, CelMap | CelList> | undefined;
  private proxy: object | undefined;

  constructor(readonly signal: Signal) {}

  /**
   * What the evaluator reads variables from. For `values.rttMs` it first asks for a variable named
   * "values.rttMs" and, on a miss, searches the protobuf type registry before falling back to the
   * map, on every evaluation; answering map keys by their dotted name here skips that search.
   */
  get activation(): object {
    this.proxy ??= new Proxy(this, ACTIVATION_HANDLER);
    return this.proxy;
  }

  /** The value of `values.x`, `labels.x`, `annotations.x` or `target.labels.x`, by that name. */
  dotted(name: string): unknown {
    const dot = name.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const map = DOTTED_MAPS[name.slice(0, dot)];
    if (map === undefined) return undefined;
    const record = map(this.signal);
    const key = name.slice(dot + 1);
    return Object.hasOwn(record, key) ? record[key] : undefined;
  }

  /** The CEL value of a variable or a dotted field of the table (`target`, `labels`, `target.id`…). */
  value(name: string): unknown {
    const f = FIELDS_BY_NAME.get(name);
    if (f !== undefined) {
      if (f.type === 'string' || f.type === 'epoch-ms') return f.read(this.signal);
      return this.once(name, () =>
        f.type === 'string-list' ? celList(f.read(this.signal) as readonly string[]) : recordMap(mapReader(f)(this.signal)),
      );
    }
    const leaves = STRUCT_FIELDS.get(name);
    if (leaves === undefined) return undefined;
    return this.once(name, () => celMap(new Map<string, CelInput>(leaves.map((l) => [l, this.value(`${name}.${l}`) as CelInput]))));
  }

  private once(key: string, make: () => CelMap | CelList): CelMap | CelList {
    this.cache ??= new Map();
    let v = this.cache.get(key);
    if (v === undefined) {
      v = make();
      this.cache.set(key, v);
    }
    return v;
  }
}

/** Fixed string fields that a guard can test without running the CEL evaluator. */
const GUARD_FIELDS: Record<string, (s: Signal) => string> = Object.fromEntries(
  VISIBLE_SIGNAL_FIELDS.filter((f) => f.type === 'string').map((f) => [f.name, stringReader(f)] as const),
);

/** String maps a guard can read a key of; longest name first, so "target.labels.x" is not read as the map "target". */
const GUARD_MAPS: [string, (s: Signal) => Readonly<Record<string, unknown>>][] = VISIBLE_SIGNAL_FIELDS.filter((f) => f.type === 'string-map')
  .map((f): [string, (s: Signal) => Readonly<Record<string, unknown>>] => [f.name, mapReader(f)])
  .sort((a, b) => b[0].length - a[0].length);

/**
 * A top-level conjunct such as `target.kind == "printer"` or `labels.alertname in ["A", "B"]`.
 * When the field holds another string the whole condition is false whatever the other conjuncts
 * would give (CEL's && is false if any side is false, even when another side errors), so the rule
 * is skipped without running the evaluator. When every conjunct is a guard and each one holds, the
 * condition is true, again without the evaluator. A missing map key decides nothing: the evaluator
 * runs and reports the error as usual.
 */
interface Guard {
  /** The field's value; for a map key, a plain property read (anything but a string decides nothing). */
  read: (s: Signal) => unknown;
  oneOf: ReadonlySet<string>;
}

/** Why a condition failed to evaluate; a label of the evaluation error metric, so a short fixed set. */
export type EvaluationErrorReason = 'cost' | 'missing_key' | 'not_boolean' | 'error';

export type WhenOutcome = { ok: true; value: boolean } | { ok: false; kind: EvaluationErrorReason; reason: string };

export interface CompiledWhen {
  readonly source: string;
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
      evaluate(bindings: WhenBindings): WhenOutcome {
        let decided = complete;
        for (const g of guards) {
          const v = g.read(bindings.signal);
          if (typeof v !== 'string') decided = false;
          else if (!g.oneOf.has(v)) return FALSE;
        }
        // Every conjunct is a guard and each one held: the conjunction is true.
        if (decided) return TRUE;
        const budget = { spent: 0, limit: maxCost };
        meter = budget;
        let result: unknown;
        try {
          result = run(bindings.activation);
        } finally {
          meter = null;
        }
        // Checked first: past the budget, `false || error` and the like must not turn into a value.
        if (budget.spent > budget.limit) {
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

/**
 * Wraps every comprehension's range and loop condition in the internal cost functions. Their
 * names start with "@", which no expression can write, so an author cannot call or shadow them.
 */
function meterComprehensions(root: Expr): void {
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

function maxId(e: Expr | undefined): bigint {
  if (!e) return 0n;
  let max = e.id;
  for (const child of childrenOf(e)) {
    const m = maxId(child);
    if (m > max) max = m;
  }
  return max;
}

function childrenOf(e: Expr): (Expr | undefined)[] {
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      return [k.value.operand];
    case 'callExpr':
      return [k.value.target, ...k.value.args];
    case 'listExpr':
      return k.value.elements;
    case 'structExpr':
      return k.value.entries.flatMap((entry) => [entry.keyKind.case === 'mapKey' ? entry.keyKind.value : undefined, entry.value]);
    case 'comprehensionExpr':
      return [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result];
    default:
      return [];
  }
}

/**
 * The static cost estimate: the first comprehension that runs inside another one whose range
 * comes from the signal (so its size is the signal's, not the rule's). A range written as a list
 * literal has a size fixed by the rule and does not count as a level.
 */
function nestedComprehension(root: Expr): Expr | undefined {
  let found: Expr | undefined;
  // `depth` is the number of enclosing signal-sized loops the expression runs in.
  const visit = (e: Expr | undefined, depth: number): void => {
    if (!e || found) return;
    const k = e.exprKind;
    if (k.case === 'comprehensionExpr') {
      const c = k.value;
      const sized = c.iterRange?.exprKind.case !== 'listExpr';
      if (sized && depth >= 1) {
        found = e;
        return;
      }
      visit(c.iterRange, depth);
      visit(c.accuInit, depth);
      visit(c.result, depth);
      visit(c.loopCondition, sized ? depth + 1 : depth);
      visit(c.loopStep, sized ? depth + 1 : depth);
      return;
    }
    for (const child of childrenOf(e)) visit(child, depth);
  };
  visit(root, 0);
  return found;
}

const DOTTED_MAPS: Record<string, (s: Signal) => Readonly<Record<string, unknown>>> = Object.fromEntries(
  VISIBLE_SIGNAL_FIELDS.filter(isMapField).map((f) => [f.name, mapReader(f)] as const),
);

const FIELDS_BY_NAME: ReadonlyMap<string, SignalField> = new Map(VISIBLE_SIGNAL_FIELDS.map((f) => [f.name, f]));

/** `target` → its fields' names (`id`, `kind`…): the variables that are structs of dotted fields. */
const STRUCT_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(VARIABLES).flatMap(([name, t]) => (t.kind === 'struct' ? [[name, Object.keys(t.fields)] as const] : [])),
);

const ACTIVATION_HANDLER: ProxyHandler<WhenBindings> = {
  get(bindings, name) {
    if (typeof name !== 'string') return undefined;
    if (Object.hasOwn(ACTIVATION_VARIABLES, name)) return bindings.value(name);
    return bindings.dotted(name);
  },
};

// What the activation answers by property: the variables and the fixed dotted fields, nothing
// else of the class (so no expression can reach `signal`, `cache` or a method).
const ACTIVATION_VARIABLES: Record<string, true> = Object.fromEntries(
  [...Object.keys(VARIABLES), ...FIELDS_BY_NAME.keys()].map((k) => [k, true]),
);

/** Converts a signal into CEL values once, so that each rule's evaluation only reads them. */
export function whenBindings(signal: Signal): WhenBindings {
  return new WhenBindings(signal);
}

/**
 * The guards among the top-level conjuncts of a condition; `complete` when every conjunct is one,
 * so that guards which all hold decide the condition without the evaluator.
 */
function guardsOf(expr: Expr): { guards: Guard[]; complete: boolean } {
  const guards: Guard[] = [];
  const all = conjuncts(expr);
  for (const conjunct of all) {
    const k = conjunct.exprKind;
    if (k.case !== 'callExpr' || k.value.target) continue;
    const [a, b] = k.value.args;
    if (!a || !b || k.value.args.length !== 2) continue;
    if (k.value.function === '_==_') {
      const fieldA = guardField(a);
      const fieldB = guardField(b);
      const litA = stringConst(a);
      const litB = stringConst(b);
      if (fieldA && litB !== undefined) guards.push({ read: fieldA, oneOf: new Set([litB]) });
      else if (fieldB && litA !== undefined) guards.push({ read: fieldB, oneOf: new Set([litA]) });
    } else if (k.value.function === '@in') {
      const field = guardField(a);
      if (!field || b.exprKind.case !== 'listExpr' || b.exprKind.value.optionalIndices.length > 0) continue;
      const items = b.exprKind.value.elements.map(stringConst);
      if (items.every((x): x is string => x !== undefined)) guards.push({ read: field, oneOf: new Set(items) });
    }
  }
  return { guards, complete: guards.length === all.length };
}

function conjuncts(expr: Expr): Expr[] {
  const k = expr.exprKind;
  if (k.case === 'callExpr' && k.value.function === '_&&_' && !k.value.target) {
    return k.value.args.flatMap(conjuncts);
  }
  return [expr];
}

/** Where a guard reads `target.kind`, `labels.alertname`, `target.labels["role"]` and the like. */
function guardField(e: Expr): ((s: Signal) => unknown) | undefined {
  const path = dottedPath(e);
  if (path === undefined) return undefined;
  if (Object.hasOwn(GUARD_FIELDS, path)) return GUARD_FIELDS[path];
  for (const [map, mapOf] of GUARD_MAPS) {
    if (path.length > map.length + 1 && path.startsWith(`${map}\u0000`)) {
      const key = path.slice(map.length + 1);
      // A NUL in the key means a field of a map value (`labels.a.b`), which is no guard.
      if (key.includes('\u0000')) return undefined;
      return (s) => mapOf(s)[key];
    }
  }
  return undefined;
}

/**
 * The path an expression reads, with NUL between a map and its key ("labels\u0000alertname") so a
 * key containing dots stays one key; fixed fields use dots ("target.kind").
 */
function dottedPath(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === 'identExpr') return k.value.name;
  if (k.case === 'selectExpr' && !k.value.testOnly && k.value.operand) {
    const operand = dottedPath(k.value.operand);
    if (operand === undefined) return undefined;
    return operand === 'target' || operand === 'check' ? `${operand}.${k.value.field}` : `${operand}\u0000${k.value.field}`;
  }
  if (k.case === 'callExpr' && k.value.function === '_[_]' && !k.value.target && k.value.args.length === 2) {
    const [m, i] = k.value.args as [Expr, Expr];
    const operand = dottedPath(m);
    const key = stringConst(i);
    if (operand === undefined || key === undefined) return undefined;
    return operand === 'target' || operand === 'check' ? `${operand}.${key}` : `${operand}\u0000${key}`;
  }
  return undefined;
}

function stringConst(e: Expr): string | undefined {
  const k = e.exprKind;
  return k.case === 'constExpr' && k.value.constantKind.case === 'stringValue' ? k.value.constantKind.value : undefined;
}

function recordMap(r: Record<string, string | number | boolean>): CelMap {
  return celMap(new Map(Object.entries(r)));
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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

class CheckFailure extends Error {
  constructor(
    readonly exprId: bigint,
    message: string,
  ) {
    super(message);
  }
}

class StaticChecker {
  private scopes: Map<string, StaticType>[] = [];

  constructor(
    private readonly source: string,
    private readonly parsed: ParsedExpr,
  ) {}

  run(): CelProblem | undefined {
    try {
      const t = this.typeOf(this.parsed.expr);
      if (!isDyn(t) && t.kind !== 'bool') {
        throw new CheckFailure(this.parsed.expr.id, `the condition must be a boolean, but this is ${typeName(t)}`);
      }
      return undefined;
    } catch (err) {
      if (err instanceof CheckFailure) return this.problemAt(err.exprId, err.message);
      return { line: 1, column: 1, message: errorMessage(err) };
    }
  }

  problemAt(id: bigint, message: string): CelProblem {
    const positions = this.parsed.sourceInfo?.positions ?? {};
    const offset = positions[id.toString()] ?? 0;
    const before = this.source.slice(0, offset);
    const lastNewline = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    return { line, column: offset - lastNewline, message };
  }

  private typeOf(expr: Expr): StaticType {
    const k = expr.exprKind;
    switch (k.case) {
      case 'constExpr':
        switch (k.value.constantKind.case) {
          case 'stringValue':
            return STRING;
          case 'boolValue':
            return BOOL;
          case 'doubleValue':
            return { kind: 'double' };
          case 'int64Value':
            return INT;
          case 'uint64Value':
            return { kind: 'uint' };
          case 'bytesValue':
            return { kind: 'bytes' };
          case 'nullValue':
            return { kind: 'null' };
          default:
            return DYN;
        }
      case 'identExpr':
        return this.ident(expr.id, k.value.name);
      case 'selectExpr': {
        if (!k.value.operand) return DYN;
        const operand = this.typeOf(k.value.operand);
        const field = this.field(expr.id, operand, k.value.field, describeOperand(k.value.operand));
        return k.value.testOnly ? BOOL : field;
      }
      case 'callExpr':
        return this.call(expr.id, k.value);
      case 'listExpr':
        for (const e of k.value.elements) this.typeOf(e);
        return { kind: 'list', elem: DYN };
      case 'structExpr':
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') this.typeOf(entry.keyKind.value);
          if (entry.value) this.typeOf(entry.value);
        }
        return k.value.messageName === '' ? { kind: 'map', value: DYN } : DYN;
      case 'comprehensionExpr':
        return this.comprehension(k.value);
      default:
        return DYN;
    }
  }

  private ident(id: bigint, name: string): StaticType {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const t = this.scopes[i]?.get(name);
      if (t) return t;
    }
    const t = VARIABLES[name];
    if (!t) {
      throw new CheckFailure(
        id,
        `undeclared variable '${name}'; the variables are ${WHEN_VARIABLES.join(', ')}`,
      );
    }
    return t;
  }

  private field(id: bigint, operand: StaticType, field: string, what: string): StaticType {
    switch (operand.kind) {
      case 'struct': {
        const t = operand.fields[field];
        if (!t) {
          throw new CheckFailure(
            id,
            `${operand.name} has no field '${field}'; its fields are ${Object.keys(operand.fields).join(', ')}`,
          );
        }
        return t;
      }
      case 'map':
        return operand.value;
      case 'dyn':
        return DYN;
      default:
        throw new CheckFailure(id, `${what} is ${typeName(operand)} and has no field '${field}'`);
    }
  }

  private call(id: bigint, call: Extract<Expr['exprKind'], { case: 'callExpr' }>['value']): StaticType {
    const fn = call.function;
    if (!BUILTIN_OPERATORS.has(fn) && !KNOWN_FUNCTIONS.has(fn)) {
      throw new CheckFailure(id, `unknown function '${fn}'`);
    }
    const target = call.target ? this.typeOf(call.target) : undefined;
    const args = call.args.map((a) => this.typeOf(a));
    if (fn === '_[_]' && target === undefined && args.length === 2) {
      const [operand, index] = args as [StaticType, StaticType];
      const indexExpr = call.args[1];
      if (operand.kind === 'struct' && indexExpr?.exprKind.case === 'constExpr') {
        const c = indexExpr.exprKind.value.constantKind;
        if (c.case === 'stringValue') return this.field(id, operand, c.value, operand.name);
      }
      if (operand.kind === 'map') return operand.value;
      if (operand.kind === 'list') return operand.elem;
      if (operand.kind === 'struct') return DYN;
      if (isDyn(operand) || isDyn(index)) return DYN;
      throw new CheckFailure(id, `cannot index ${typeName(operand)}`);
    }
    if (COMPARISONS.has(fn) && args.length === 2) {
      const [a, b] = args as [StaticType, StaticType];
      if (incomparable(a, b)) {
        throw new CheckFailure(
          id,
          `cannot compare ${typeName(a)} with ${typeName(b)} ('${operatorSymbol(fn)}'); ` +
            `quote the number or convert with string()/double()`,
        );
      }
    }
    if (fn === '_?_:_' && args.length === 3) return DYN;
    if (fn === 'size') return INT;
    if (BOOL_RESULTS.has(fn)) return BOOL;
    return DYN;
  }

  private comprehension(c: Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value']): StaticType {
    const range = c.iterRange ? this.typeOf(c.iterRange) : DYN;
    if (c.accuInit) this.typeOf(c.accuInit);
    const scope = new Map<string, StaticType>();
    if (range.kind === 'list') {
      if (c.iterVar2) {
        scope.set(c.iterVar, INT);
        scope.set(c.iterVar2, range.elem);
      } else {
        scope.set(c.iterVar, range.elem);
      }
    } else if (range.kind === 'map') {
      scope.set(c.iterVar, STRING);
      if (c.iterVar2) scope.set(c.iterVar2, range.value);
    } else if (range.kind === 'struct') {
      scope.set(c.iterVar, STRING);
      if (c.iterVar2) scope.set(c.iterVar2, DYN);
    } else if (!isDyn(range)) {
      throw new CheckFailure(c.iterRange?.id ?? 0n, `cannot iterate over ${typeName(range)}`);
    } else {
      scope.set(c.iterVar, DYN);
      if (c.iterVar2) scope.set(c.iterVar2, DYN);
    }
    scope.set(c.accuVar, DYN);
    this.scopes.push(scope);
    try {
      if (c.loopCondition) this.typeOf(c.loopCondition);
      if (c.loopStep) this.typeOf(c.loopStep);
      if (c.result) this.typeOf(c.result);
    } finally {
      this.scopes.pop();
    }
    return DYN;
  }
}

function isDyn(t: StaticType): boolean {
  return t.kind === 'dyn';
}

function isNumeric(t: StaticType): boolean {
  return t.kind === 'double' || t.kind === 'int' || t.kind === 'uint';
}

/** True when comparing the two can never work (CEL has no overload for them). */
function incomparable(a: StaticType, b: StaticType): boolean {
  if (isDyn(a) || isDyn(b) || a.kind === 'null' || b.kind === 'null') return false;
  if (isNumeric(a) && isNumeric(b)) return false;
  const scalar = (t: StaticType) => t.kind === 'string' || t.kind === 'bool' || isNumeric(t);
  return scalar(a) && scalar(b) && (isNumeric(a) ? 'number' : a.kind) !== (isNumeric(b) ? 'number' : b.kind);
}

function typeName(t: StaticType): string {
  switch (t.kind) {
    case 'string':
      return 'a string';
    case 'bool':
      return 'a boolean';
    case 'double':
    case 'int':
    case 'uint':
      return 'a number';
    case 'bytes':
      return 'bytes';
    case 'null':
      return 'null';
    case 'list':
      return 'a list';
    case 'map':
      return 'a map';
    case 'struct':
      return `the ${t.name} map`;
    default:
      return 'a value';
  }
}

function describeOperand(e: Expr): string {
  const k = e.exprKind;
  if (k.case === 'identExpr') return k.value.name;
  if (k.case === 'selectExpr' && k.value.operand) return `${describeOperand(k.value.operand)}.${k.value.field}`;
  return 'this value';
}

function operatorSymbol(fn: string): string {
  return fn.replaceAll('_', '');
}
