// What the checker says about a comparison in a `when` condition: two sides CEL can never compare
// (a string field with a number), and a measurement compared in order with a number written in
// quotes (`values.connectMs > "100"`), which at run time compares a double with a string: CEL has
// no such overload, the evaluation fails and the rule never matches.
import { stringConst, type Expr } from './cel-ast.js';
import type { StaticType } from './cel-check.js';

const ORDERINGS = new Set(['_<_', '_<=_', '_>_', '_>=_']);

/** Text that reads as a number, as an admin would write one: 100, 2.5, -3, 1e3. */
const NUMERIC_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * Why the comparison `fn` of these two sides can never work, or undefined when it can.
 * `shadowed` says whether a name is a comprehension variable (then `values` is not the signal's).
 */
export function comparisonProblem(
  fn: string,
  exprs: readonly [Expr, Expr],
  types: readonly [StaticType, StaticType],
  shadowed: (name: string) => boolean,
): string | undefined {
  const [a, b] = types;
  const op = operatorSymbol(fn);
  if (incomparable(a, b)) {
    return (
      `cannot compare ${typeName(a)} with ${typeName(b)}: '${op}' compares ${describeSide(exprs[0])} (${celTypeName(a)}) ` +
      `with ${describeSide(exprs[1])} (${celTypeName(b)}); quote the number or convert with string()/double()`
    );
  }
  if (!ORDERINGS.has(fn)) return undefined;
  // Measurements are numbers (double in CEL), text or booleans; only the signal knows which. An
  // ordering against a number in quotes is wrong either way: against a double it fails to
  // evaluate, and against text it orders letters ("9" > "100").
  for (const [m, other] of [
    [0, 1],
    [1, 0],
  ] as const) {
    const name = measurementName(exprs[m], shadowed);
    const text = stringConst(exprs[other]);
    if (name === undefined || text === undefined || !NUMERIC_TEXT.test(text)) continue;
    return (
      `'${op}' compares ${name} (a measurement: double when the signal carries a number, as probes record them) ` +
      `with a string (${JSON.stringify(text)}), so the rule never matches; write ${text.trim()} without quotes`
    );
  }
  return undefined;
}

/** `values.connectMs` or `values["connectMs"]` as the author wrote it, or undefined. */
function measurementName(e: Expr, shadowed: (name: string) => boolean): string | undefined {
  const k = e.exprKind;
  const isValues = (x: Expr | undefined) => x?.exprKind.case === 'identExpr' && x.exprKind.value.name === 'values' && !shadowed('values');
  if (k.case === 'selectExpr' && !k.value.testOnly && isValues(k.value.operand)) return `values.${k.value.field}`;
  if (k.case === 'callExpr' && k.value.function === '_[_]' && !k.value.target && k.value.args.length === 2) {
    const [map, key] = k.value.args as [Expr, Expr];
    const name = stringConst(key);
    if (isValues(map) && name !== undefined) return `values[${JSON.stringify(name)}]`;
  }
  return undefined;
}

/** A side of a comparison for a message: a field's name, a literal as written, or "this value". */
function describeSide(e: Expr): string {
  const k = e.exprKind;
  if (k.case === 'constExpr') {
    const c = k.value.constantKind;
    if (c.case === 'stringValue') return JSON.stringify(c.value);
    if (c.case === 'int64Value' || c.case === 'uint64Value' || c.case === 'doubleValue' || c.case === 'boolValue') return String(c.value);
  }
  return describeOperand(e);
}

/** CEL's own name of a type, as its documentation and error messages write it. */
function celTypeName(t: StaticType): string {
  switch (t.kind) {
    case 'list':
      return 'list';
    case 'map':
    case 'struct':
      return 'map';
    default:
      return t.kind;
  }
}

export function isDyn(t: StaticType): boolean {
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

export function typeName(t: StaticType): string {
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

export function describeOperand(e: Expr): string {
  const k = e.exprKind;
  if (k.case === 'identExpr') return k.value.name;
  if (k.case === 'selectExpr' && k.value.operand) return `${describeOperand(k.value.operand)}.${k.value.field}`;
  return 'this value';
}

function operatorSymbol(fn: string): string {
  return fn.replaceAll('_', '');
}
