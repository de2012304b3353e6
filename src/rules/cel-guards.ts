// Guards: top-level conjuncts such as `target.kind == "printer"` that decide a condition from the
// signal itself, without running the CEL evaluator.
import type { Signal } from '../domain/signal.js';
import { stringConst, type Expr } from './cel-ast.js';
import { isMapField, mapReader, stringReader, VISIBLE_SIGNAL_FIELDS } from './signal-fields.js';

/** Fixed string fields that a guard can test without running the CEL evaluator. */
const GUARD_FIELDS: Record<string, (s: Signal) => string> = Object.fromEntries(
  VISIBLE_SIGNAL_FIELDS.filter((f) => f.type === 'string').map((f) => [f.name, stringReader(f)] as const),
);

/** String maps a guard can read a key of; longest name first, so "target.labels.x" is not read as the map "target". */
const GUARD_MAPS: [string, (s: Signal) => Readonly<Record<string, unknown>>][] = VISIBLE_SIGNAL_FIELDS.filter((f) => f.type === 'string-map')
  .map((f): [string, (s: Signal) => Readonly<Record<string, unknown>>] => [f.name, mapReader(f)])
  .sort((a, b) => b[0].length - a[0].length);

/** Every map a `"key" in map` or `has(map.key)` conjunct can test (values included: presence has no type). */
const KEY_MAPS: Record<string, (s: Signal) => Readonly<Record<string, unknown>>> = Object.fromEntries(
  VISIBLE_SIGNAL_FIELDS.filter(isMapField).map((f) => [f.name, mapReader(f)] as const),
);

/**
 * A top-level conjunct such as `target.kind == "printer"` or `labels.alertname in ["A", "B"]`.
 * When the field holds another string the whole condition is false whatever the other conjuncts
 * would give (CEL's && is false if any side is false, even when another side errors), so the rule
 * is skipped without running the evaluator. When every conjunct is a guard and each one holds, the
 * condition is true, again without the evaluator. A missing map key decides nothing: the evaluator
 * runs and reports the error as usual.
 */
export type Guard = ValueGuard | KeyGuard;

export interface ValueGuard {
  kind: 'value';
  /** The field's value; for a map key, a plain property read (anything but a string decides nothing). */
  read: (s: Signal) => unknown;
  oneOf: ReadonlySet<string>;
  /** The fixed field read (`source`, `check.type`…); absent for a map key, which may be missing. */
  field?: string;
}

/**
 * A top-level conjunct `"severity" in labels` or `has(labels.severity)`: true exactly when the map
 * has the key (CEL map membership), so an alert without the label skips the rule without the
 * evaluator, and a condition made only of guards is decided without it.
 */
export interface KeyGuard {
  kind: 'key';
  present: (s: Signal) => boolean;
}

/**
 * The guards among the top-level conjuncts of a condition; `complete` when every conjunct is one,
 * so that guards which all hold decide the condition without the evaluator.
 */
export function guardsOf(expr: Expr): { guards: Guard[]; complete: boolean } {
  const guards: Guard[] = [];
  const all = conjuncts(expr);
  for (const conjunct of all) {
    const k = conjunct.exprKind;
    const key = keyGuard(conjunct);
    if (key !== undefined) {
      guards.push(key);
      continue;
    }
    if (k.case !== 'callExpr' || k.value.target) continue;
    const [a, b] = k.value.args;
    if (!a || !b || k.value.args.length !== 2) continue;
    if (k.value.function === '_==_') {
      const fieldA = guardField(a);
      const fieldB = guardField(b);
      const litA = stringConst(a);
      const litB = stringConst(b);
      if (fieldA && litB !== undefined) guards.push({ kind: 'value', ...fieldA, oneOf: new Set([litB]) });
      else if (fieldB && litA !== undefined) guards.push({ kind: 'value', ...fieldB, oneOf: new Set([litA]) });
    } else if (k.value.function === '@in') {
      const field = guardField(a);
      if (!field || b.exprKind.case !== 'listExpr' || b.exprKind.value.optionalIndices.length > 0) continue;
      const items = b.exprKind.value.elements.map(stringConst);
      if (items.every((x): x is string => x !== undefined)) guards.push({ kind: 'value', ...field, oneOf: new Set(items) });
    }
  }
  return { guards, complete: guards.length === all.length };
}

/** `"k" in <map>` or `has(<map>.k)` over a map field of the signal, as a KeyGuard; else undefined. */
function keyGuard(e: Expr): KeyGuard | undefined {
  const k = e.exprKind;
  let map: string | undefined;
  let key: string | undefined;
  if (k.case === 'callExpr' && k.value.function === '@in' && !k.value.target && k.value.args.length === 2) {
    key = stringConst(k.value.args[0]!);
    map = dottedPath(k.value.args[1]!);
  } else if (k.case === 'selectExpr' && k.value.testOnly && k.value.operand) {
    key = k.value.field;
    map = dottedPath(k.value.operand);
  }
  if (key === undefined || map === undefined || !Object.hasOwn(KEY_MAPS, map)) return undefined;
  const mapOf = KEY_MAPS[map]!;
  const name = key;
  return { kind: 'key', present: (s) => Object.hasOwn(mapOf(s), name) };
}

function conjuncts(expr: Expr): Expr[] {
  const k = expr.exprKind;
  if (k.case === 'callExpr' && k.value.function === '_&&_' && !k.value.target) {
    return k.value.args.flatMap(conjuncts);
  }
  return [expr];
}

/** Where a guard reads `target.kind`, `labels.alertname`, `target.labels["role"]` and the like. */
function guardField(e: Expr): Pick<ValueGuard, 'read' | 'field'> | undefined {
  const path = dottedPath(e);
  if (path === undefined) return undefined;
  if (Object.hasOwn(GUARD_FIELDS, path)) return { read: GUARD_FIELDS[path]!, field: path };
  for (const [map, mapOf] of GUARD_MAPS) {
    if (path.length > map.length + 1 && path.startsWith(`${map}\u0000`)) {
      const key = path.slice(map.length + 1);
      // A NUL in the key means a field of a map value (`labels.a.b`), which is no guard.
      if (key.includes('\u0000')) return undefined;
      return { read: (s) => mapOf(s)[key] };
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

