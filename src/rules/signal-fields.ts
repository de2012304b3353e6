// The fields of a signal that rules can name, in one table. The `when` checker and evaluator
// (./cel.ts), `dedup_by` (./dedup.ts) and the title/description templates (./templates.ts) all
// read their names, types and values from here, so a field added to the signal is added once.
import type { Signal, Value } from '../domain/signal.js';

/**
 * `string`: plain text; `string-map`: labels-like map of text; `value-map`: measurements (number,
 * text or boolean); `string-list`: a list of text; `epoch-ms`: a time in epoch milliseconds.
 */
export type SignalFieldType = 'string' | 'string-map' | 'value-map' | 'string-list' | 'epoch-ms';

export interface SignalField {
  /** The name a rule writes: `source`, `target.id`, `labels`… At most one dot. */
  readonly name: string;
  readonly type: SignalFieldType;
  readonly description: string;
  /** Differs from one signal of the same problem to the next, so it cannot be part of `dedup_by`. */
  readonly changing?: true;
  /** Not offered to `when` conditions or templates (only dedup knows it, to refuse it). */
  readonly hidden?: true;
  readonly read: (s: Signal) => string | number | Readonly<Record<string, Value>> | readonly string[];
}

/** In the order rules and messages list them. */
export const SIGNAL_FIELDS: readonly SignalField[] = [
  { name: 'source', type: 'string', description: 'Where the signal came from: probe, alertmanager, a source id, snmp-trap…', read: (s) => s.source },
  { name: 'status', type: 'string', description: '`fail` or `ok`.', changing: true, read: (s) => s.status },
  { name: 'message', type: 'string', description: 'What the check or alert said.', changing: true, read: (s) => s.message },
  { name: 'target.id', type: 'string', description: 'Id of the target.', read: (s) => s.target.id },
  { name: 'target.kind', type: 'string', description: 'What the target is: wifi-ap, server, printer, mail…', read: (s) => s.target.kind },
  { name: 'target.name', type: 'string', description: 'Display name of the target.', read: (s) => s.target.name },
  { name: 'target.site', type: 'string', description: 'Site of the target (empty when none).', read: (s) => s.target.site },
  { name: 'target.labels', type: 'string-map', description: 'Labels of the target.', read: (s) => s.target.labels },
  { name: 'target.depends_on', type: 'string-list', description: 'Ids of the targets it depends on.', read: (s) => s.target.dependsOn },
  { name: 'check.name', type: 'string', description: 'Name of the check or alert.', read: (s) => s.check.name },
  { name: 'check.type', type: 'string', description: 'Probe kind, or the source type for alerts.', read: (s) => s.check.type },
  { name: 'values', type: 'value-map', description: 'Measurements: rttMs, packetLoss, tonerPercent, status…', read: (s) => s.values },
  { name: 'labels', type: 'string-map', description: 'Labels of the signal (alert labels, source labels).', read: (s) => s.labels },
  { name: 'annotations', type: 'string-map', description: 'Annotations of an alert.', read: (s) => s.annotations },
  { name: 'at', type: 'epoch-ms', description: 'When it was observed.', changing: true, hidden: true, read: (s) => s.at },
];

/** Fields offered to `when` conditions and templates. */
export const VISIBLE_SIGNAL_FIELDS: readonly SignalField[] = SIGNAL_FIELDS.filter((f) => !f.hidden);

/** The part before the dot (`target` of `target.id`), or the whole name. */
export function fieldRoot(f: SignalField): string {
  const dot = f.name.indexOf('.');
  return dot === -1 ? f.name : f.name.slice(0, dot);
}

/** The part after the dot (`id` of `target.id`), or null for a top-level field. */
export function fieldLeaf(f: SignalField): string | null {
  const dot = f.name.indexOf('.');
  return dot === -1 ? null : f.name.slice(dot + 1);
}

export function isMapField(f: SignalField): boolean {
  return f.type === 'string-map' || f.type === 'value-map';
}

/** A text field's reader, typed as such. */
export function stringReader(f: SignalField): (s: Signal) => string {
  return f.read as (s: Signal) => string;
}

/** A map field's reader, typed as such. */
export function mapReader(f: SignalField): (s: Signal) => Readonly<Record<string, Value>> {
  return f.read as (s: Signal) => Readonly<Record<string, Value>>;
}
