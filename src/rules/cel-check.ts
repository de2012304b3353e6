// The static checks of `when` conditions, run once at load. @bufbuild/cel parses and evaluates but
// does not export a type checker (its internal one only knows constants and identifiers), so the
// checks a rule author needs live here: unknown variables, unknown fields of `target`/`check`,
// unknown functions, fields selected from scalars, comparisons whose two sides can never be
// compared, and a result that cannot be a boolean. The variables and their types come from the
// table of ./signal-fields.ts.
import { childrenOf, errorMessage, type Expr, type ParsedExpr } from './cel-ast.js';
import { BASE_ENV } from './cel-cost.js';
import { comparisonProblem, describeOperand, isDyn, typeName } from './cel-compare.js';
import { fieldLeaf, fieldRoot, VISIBLE_SIGNAL_FIELDS, type SignalFieldType } from './signal-fields.js';

/** What the checker knows about an expression's type; `dyn` means "only known at run time". */
export type StaticType =
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
export const VARIABLES: Record<string, StaticType> = {};
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

const KNOWN_FUNCTIONS = new Set<string>([...BASE_ENV.funcs].map((f) => f.name));

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
 * The static cost estimate: the first comprehension that runs inside another one whose range
 * comes from the signal (so its size is the signal's, not the rule's). A range written as a list
 * literal has a size fixed by the rule and does not count as a level.
 */
export function nestedComprehension(root: Expr): Expr | undefined {
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

class CheckFailure extends Error {
  constructor(
    readonly exprId: bigint,
    message: string,
  ) {
    super(message);
  }
}

export class StaticChecker {
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
    if (COMPARISONS.has(fn) && args.length === 2 && !call.target) {
      const problem = comparisonProblem(fn, call.args as [Expr, Expr], args as [StaticType, StaticType], (name) =>
        this.scopes.some((scope) => scope.has(name)),
      );
      if (problem) throw new CheckFailure(id, problem);
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
