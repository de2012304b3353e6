// Which rules could match a signal, decided once per rule set: a rule whose condition requires
// `source == "snmp-trap"` or `check.type in ["http", "smtp"]` cannot match a tcp probe's signal,
// so its condition is not evaluated for it at all. Rules without such a conjunct are always
// evaluated. The candidates keep the rules' order, so first match and `continue` are unchanged.
import type { Signal } from '../domain/signal.js';
import type { FieldGuard } from './cel.js';
import { stringReader, VISIBLE_SIGNAL_FIELDS } from './signal-fields.js';

/**
 * Fields the prefilter keys on: few distinct values across signals, so the candidate lists stay
 * few. check.name and target.id are left to the per-rule guards (one per alert name or target).
 */
const INDEX_FIELDS = ['source', 'check.type', 'target.kind'] as const;

/** Distinct (source, check.type, target.kind) combinations remembered; past it the memo starts over. */
const MAX_MEMO = 1024;

const READERS: ReadonlyMap<string, (s: Signal) => string> = new Map(
  VISIBLE_SIGNAL_FIELDS.filter((f) => (INDEX_FIELDS as readonly string[]).includes(f.name)).map((f) => [f.name, stringReader(f)] as const),
);

interface IndexedGuard {
  field: string;
  read: (s: Signal) => string;
  oneOf: ReadonlySet<string>;
}

export class RulePrefilter {
  /** Per rule, its conjuncts on the index fields (empty: always evaluated). */
  private readonly guards: readonly (readonly IndexedGuard[])[];
  /** The index fields some rule tests; only these make up the memo key. */
  private readonly readers: readonly ((s: Signal) => string)[];
  private readonly memo = new Map<string, readonly number[]>();
  private readonly all: readonly number[];

  constructor(rules: readonly { fieldGuards: readonly FieldGuard[] }[]) {
    this.guards = rules.map((r) =>
      r.fieldGuards.flatMap((g) => {
        const read = READERS.get(g.field);
        return read === undefined ? [] : [{ field: g.field, read, oneOf: g.oneOf }];
      }),
    );
    const used = new Set(this.guards.flatMap((gs) => gs.map((g) => g.field)));
    this.readers = INDEX_FIELDS.filter((f) => used.has(f)).map((f) => READERS.get(f)!);
    this.all = rules.map((_, i) => i);
  }

  /** Indexes of the rules that could match this signal, ascending. */
  candidates(signal: Signal): readonly number[] {
    const readers = this.readers;
    if (readers.length === 0) return this.all;
    let key = readers[0]!(signal);
    for (let i = 1; i < readers.length; i++) key += '\u0000' + readers[i]!(signal);
    let found = this.memo.get(key);
    if (found === undefined) {
      found = this.all.filter((i) => this.cannotMatch(i, signal) === null);
      if (this.memo.size >= MAX_MEMO) this.memo.clear();
      this.memo.set(key, found);
    }
    return found;
  }

  /**
   * Why rule `index` cannot match this signal ('source is "probe", the condition needs "snmp-trap"'),
   * or null when it could.
   */
  cannotMatch(index: number, signal: Signal): string | null {
    for (const g of this.guards[index] ?? []) {
      const value = g.read(signal);
      if (!g.oneOf.has(value)) {
        const needs = [...g.oneOf].map((v) => JSON.stringify(v));
        return `${g.field} is ${JSON.stringify(value)}, the condition needs ${needs.length === 1 ? needs[0] : `one of ${needs.join(', ')}`}`;
      }
    }
    return null;
  }
}
