// The values a compiled `when` condition reads from a signal, made once per signal and shared by
// every rule.
import { celList, celMap, type CelInput, type CelList, type CelMap } from '@bufbuild/cel';
import type { Signal } from '../domain/signal.js';
import { VARIABLES } from './cel-check.js';
import { isMapField, mapReader, VISIBLE_SIGNAL_FIELDS, type SignalField } from './signal-fields.js';

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

function recordMap(r: Record<string, string | number | boolean>): CelMap {
  return celMap(new Map(Object.entries(r)));
}

