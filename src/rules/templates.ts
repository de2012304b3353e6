// Mustache templates for rule titles, descriptions and runbooks. Plain text: nothing is
// HTML-escaped. Parsed once at load; names are checked against the view so a typo is a load error
// instead of a silently empty title.
import Mustache from 'mustache';
import type { Classification } from '../domain/classification.js';
import type { Signal, Value } from '../domain/signal.js';
import { fieldLeaf, fieldRoot, isMapField, VISIBLE_SIGNAL_FIELDS } from './signal-fields.js';

/** The view a template renders against: the fields of ./signal-fields.ts, the rule and its classification. */
export interface TemplateView {
  source: string;
  status: string;
  message: string;
  target: {
    id: string;
    kind: string;
    name: string;
    site: string;
    labels: Record<string, string>;
    depends_on: string[];
  };
  check: { name: string; type: string };
  values: Record<string, Value>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  rule: { id: string };
  classification: Classification;
}

/** Known fields of the view: `null` for a free-form map (any key), a field list for a fixed shape. */
const VIEW_FIELDS: Record<string, readonly string[] | null | 'scalar'> = {};
for (const f of VISIBLE_SIGNAL_FIELDS) {
  const root = fieldRoot(f);
  const leaf = fieldLeaf(f);
  if (leaf === null) VIEW_FIELDS[root] = isMapField(f) ? null : 'scalar';
  else VIEW_FIELDS[root] = [...((VIEW_FIELDS[root] as readonly string[] | undefined) ?? []), leaf];
}
VIEW_FIELDS.rule = ['id'];
VIEW_FIELDS.classification = ['category', 'severity', 'impact', 'tier', 'priority'];

export const TEMPLATE_VIEW_KEYS: readonly string[] = Object.keys(VIEW_FIELDS);

export type CompileTemplateResult = { ok: true; template: CompiledTemplate } | { ok: false; message: string };

/** What a template reads of the rule that matched: `rule.id` and `classification`. */
export interface TemplateRule {
  id: string;
  classification: Classification;
}

export interface CompiledTemplate {
  readonly source: string;
  /** Renders against templateView(signal, rule); most templates need no view built for that. */
  render(signal: Signal, rule: TemplateRule): string;
}

type Token = unknown[];

const writer = new Mustache.Writer();
const PLAIN_TEXT = { escape: (v: unknown): string => String(v) };

export function compileTemplate(source: string): CompileTemplateResult {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(source);
  } catch (err) {
    return { ok: false, message: `template syntax error: ${err instanceof Error ? err.message : String(err)}` };
  }
  const problem = checkTokens(tokens, false);
  if (problem) return { ok: false, message: problem };
  return { ok: true, template: { source, render: renderer(tokens, source) } };
}

type Render = CompiledTemplate['render'];

/**
 * Templates without sections (nearly all titles) render by a list of precomputed parts instead of
 * the mustache interpreter: the same output, several times faster. Their names are read from the
 * signal and rule directly, so no view is built for them.
 */
function renderer(tokens: Token[], source: string): Render {
  const simple = tokens.every((t) => ['text', 'name', '&', '!', '='].includes(String(t[0])));
  if (!simple) {
    return (signal, rule) =>
      writer.renderTokens(tokens as string[][], new Mustache.Context(templateView(signal, rule)), undefined, source, PLAIN_TEXT);
  }
  const parts: (string | string[])[] = [];
  for (const t of tokens) {
    if (t[0] === 'text') parts.push(String(t[1]));
    else if (t[0] === 'name' || t[0] === '&') parts.push(String(t[1]) === '.' ? [] : String(t[1]).split('.'));
  }
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return () => constant;
  }
  const readers = parts.map((p): PartReader => (typeof p === 'string' ? () => p : partReader(p)));
  return (signal, rule) => {
    let out = '';
    for (const read of readers) out += read(signal, rule);
    return out;
  };
}

function lookup(view: TemplateView, path: readonly string[]): string {
  let cur: unknown = view;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return '';
    cur = (cur as Record<string, unknown>)[key];
  }
  return text(cur);
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // A list reads as its items joined by commas; a whole map such as {{signal.labels}} as its
  // JSON, not "[object Object]".
  if (Array.isArray(v)) return v.map(text).join(',');
  return JSON.stringify(v) ?? '';
}

type PartReader = (signal: Signal, rule: TemplateRule) => string;

/** The key of a free-form map, as lookup reads it: own keys only, anything else is empty. */
function mapKey(map: unknown, key: string): string {
  if (map === null || typeof map !== 'object' || !Object.hasOwn(map, key)) return '';
  return text((map as Record<string, unknown>)[key]);
}

/** Fields of the view read straight from the signal or rule: what lookup finds in templateView(). */
const DIRECT: Record<string, (signal: Signal, rule: TemplateRule) => unknown> = {
  ...Object.fromEntries(VISIBLE_SIGNAL_FIELDS.filter((f) => !isMapField(f) || fieldLeaf(f) !== null).map((f) => [f.name, f.read] as const)),
  'rule.id': (_s, r) => r.id,
  'classification.category': (_s, r) => r.classification.category,
  'classification.severity': (_s, r) => r.classification.severity,
  'classification.impact': (_s, r) => r.classification.impact,
  'classification.tier': (_s, r) => r.classification.tier,
  'classification.priority': (_s, r) => r.classification.priority,
};

const MAP_ROOTS: Record<string, (signal: Signal) => unknown> = Object.fromEntries(
  VISIBLE_SIGNAL_FIELDS.filter(isMapField).map((f) => [f.name, f.read] as const),
);

/** Reads one name; the few shapes not read directly go through the full view. */
function partReader(path: readonly string[]): PartReader {
  const name = path.join('.');
  const direct = Object.hasOwn(DIRECT, name) ? DIRECT[name] : undefined;
  if (direct) return (s, r) => text(direct(s, r));
  const key = path[path.length - 1];
  const root = path.slice(0, -1).join('.');
  const map = Object.hasOwn(MAP_ROOTS, root) ? MAP_ROOTS[root] : undefined;
  if (map && key !== undefined) return (s) => mapKey(map(s), key);
  return (s, r) => lookup(templateView(s, r), path);
}

/**
 * Returns a message for the first name the view cannot supply. Inside a section the context may be
 * a list item or map whose keys are unknown here, so names there are not checked.
 */
function checkTokens(tokens: Token[], inSection: boolean): string | undefined {
  for (const t of tokens) {
    const type = t[0];
    const name = String(t[1]);
    if (type === '>') return `partials are not supported ({{> ${name}}})`;
    if (type === 'name' || type === '&' || type === '#' || type === '^') {
      if (!inSection) {
        const problem = checkName(name);
        if (problem) return problem;
      }
    }
    if ((type === '#' || type === '^') && Array.isArray(t[4])) {
      const problem = checkTokens(t[4] as Token[], true);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkName(name: string): string | undefined {
  if (name === '.') return undefined;
  const [first = '', second, ...rest] = name.split('.');
  const fields = VIEW_FIELDS[first];
  if (fields === undefined) {
    return `unknown template name '{{${name}}}'; it must start with one of ${TEMPLATE_VIEW_KEYS.join(', ')}`;
  }
  if (second === undefined) return undefined;
  if (fields === 'scalar') return `unknown template name '{{${name}}}': ${first} is text and has no field '${second}'`;
  if (fields === null) {
    if (rest.length > 0) return `unknown template name '{{${name}}}': ${first}.${second} has no fields`;
    return undefined;
  }
  if (!fields.includes(second)) {
    return `unknown template name '{{${name}}}': ${first} has no field '${second}'; its fields are ${fields.join(', ')}`;
  }
  // target.labels is the only nested map: target.labels.<key> is fine, anything deeper is not.
  const depthAllowed = first === 'target' && second === 'labels' ? 1 : 0;
  if (rest.length > depthAllowed) {
    return `unknown template name '{{${name}}}': ${first}.${second} has no field '${rest[depthAllowed] ?? ''}'`;
  }
  return undefined;
}

/** The view a template of the rule renders against for the signal. */
export function templateView(signal: Signal, rule: TemplateRule): TemplateView {
  const view: Record<string, unknown> = {};
  for (const f of VISIBLE_SIGNAL_FIELDS) {
    const leaf = fieldLeaf(f);
    if (leaf === null) view[fieldRoot(f)] = f.read(signal);
    else ((view[fieldRoot(f)] ??= {}) as Record<string, unknown>)[leaf] = f.read(signal);
  }
  view.rule = { id: rule.id };
  view.classification = rule.classification;
  return view as unknown as TemplateView;
}
