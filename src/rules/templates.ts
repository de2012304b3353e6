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
  /** Rendered without the mustache interpreter (see renderer); false for the shapes only it can render. */
  readonly fast: boolean;
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
  return { ok: true, template: { source, ...renderer(tokens, source) } };
}

type Render = CompiledTemplate['render'];

/**
 * Templates without sections (nearly all titles) render by a list of precomputed parts instead of
 * the mustache interpreter: the same output, several times faster. Their names are read from the
 * signal and rule directly, so no view is built for them. Templates whose sections each test one
 * value, such as `{{#annotations.summary}}…{{/annotations.summary}}`, render so too (sectionParts);
 * any other section goes through the interpreter with the full view.
 */
function renderer(tokens: Token[], source: string): { render: Render; fast: boolean } {
  const simple = tokens.every((t) => ['text', 'name', '&', '!', '='].includes(String(t[0])));
  if (!simple) {
    const parts = sectionParts(tokens);
    if (parts) return { render: join(parts), fast: true };
    return {
      render: (signal, rule) =>
        writer.renderTokens(tokens as string[][], new Mustache.Context(templateView(signal, rule)), undefined, source, PLAIN_TEXT),
      fast: false,
    };
  }
  const parts: (string | string[])[] = [];
  for (const t of tokens) {
    if (t[0] === 'text') parts.push(String(t[1]));
    else if (t[0] === 'name' || t[0] === '&') parts.push(String(t[1]) === '.' ? [] : String(t[1]).split('.'));
  }
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return { render: () => constant, fast: true };
  }
  return { render: join(parts.map((p): PartReader => (typeof p === 'string' ? () => p : partReader(p)))), fast: true };
}

function join(readers: readonly PartReader[]): Render {
  return (signal, rule) => {
    let out = '';
    for (const read of readers) out += read(signal, rule);
    return out;
  };
}

/**
 * The parts of a template with sections, or null when only the interpreter renders it the same.
 * Taken only when every section and every name (in bodies too) reads one value: a text field
 * (source, target.name, rule.id, classification.*…) or a key of a map (labels.x, values.x…).
 * Why that equals mustache 4.2 (node_modules/mustache/mustache.mjs):
 *  - renderSection renders nothing for a falsy value, and the body once for a string, number or
 *    `true`; renderInverted renders the body for a falsy value. Both test the value with JS `!`,
 *    as below. An array value (looped over) or a map (pushed as context) never occurs here.
 *  - The body sees a string or number pushed as context (`true` pushes nothing). Context.lookup
 *    of a dotless name on a primitive misses (hasProperty wants an object) and of a dotted name
 *    misses when the primitive has no property named like its first part: a view root, which
 *    checkName demands and primitiveProperty rules out. So every name in a body, nested sections
 *    included, reads the view as it does outside: the same readers serve both.
 *  - `{{.}}` in a body would read the primitive, so it is refused, and so is any name the view
 *    cannot supply (checkName), which mustache would render empty.
 *  - Mustache finds a map key with `in`, prototype included (labels.constructor is a function it
 *    calls); the readers take own keys only, so keys Object.prototype has are refused.
 *  - A name renders String(value) (PLAIN_TEXT) or nothing for undefined: text() of a scalar.
 */
function sectionParts(tokens: Token[]): PartReader[] | null {
  const parts: PartReader[] = [];
  for (const t of tokens) {
    const type = t[0];
    if (type === 'text') {
      const text = String(t[1]);
      parts.push(() => text);
    } else if (type === 'name' || type === '&') {
      const read = scalarReader(String(t[1]));
      if (!read) return null;
      parts.push((s, r) => text(read(s, r)));
    } else if (type === '#' || type === '^') {
      const read = scalarReader(String(t[1]));
      const body = Array.isArray(t[4]) ? sectionParts(t[4] as Token[]) : null;
      if (!read || !body) return null;
      const render = join(body);
      parts.push(type === '#' ? (s, r) => (read(s, r) ? render(s, r) : '') : (s, r) => (read(s, r) ? '' : render(s, r)));
    } else if (type !== '!' && type !== '=') {
      return null;
    }
  }
  return parts;
}

/** A view root that a string or number also has as a property would not fall through to the view. */
function primitiveProperty(name: string): boolean {
  return name in String.prototype || name in Number.prototype || name in Boolean.prototype;
}

/** The value of a name that holds one text, number or boolean, unconverted; null for other names. */
function scalarReader(name: string): ((signal: Signal, rule: TemplateRule) => unknown) | null {
  if (name === '.' || checkName(name) !== undefined) return null;
  const path = name.split('.');
  if (path.length > 1 && primitiveProperty(path[0] ?? '')) return null;
  if (Object.hasOwn(SCALARS, name)) return SCALARS[name] ?? null;
  const key = path[path.length - 1] ?? '';
  const root = path.slice(0, -1).join('.');
  const map = Object.hasOwn(MAP_ROOTS, root) ? MAP_ROOTS[root] : undefined;
  if (!map || key in Object.prototype) return null;
  return (s) => {
    const m = map(s);
    return m !== null && typeof m === 'object' && Object.hasOwn(m, key) ? (m as Record<string, unknown>)[key] : undefined;
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

/** Text fields of the view read straight from the signal or rule: what lookup finds in templateView(). */
const SCALARS: Record<string, (signal: Signal, rule: TemplateRule) => unknown> = {
  ...Object.fromEntries(VISIBLE_SIGNAL_FIELDS.filter((f) => f.type === 'string').map((f) => [f.name, f.read] as const)),
  'rule.id': (_s, r) => r.id,
  'classification.category': (_s, r) => r.classification.category,
  'classification.severity': (_s, r) => r.classification.severity,
  'classification.impact': (_s, r) => r.classification.impact,
  'classification.tier': (_s, r) => r.classification.tier,
  'classification.priority': (_s, r) => r.classification.priority,
};

/** All fields of the view read straight from the signal or rule: the text fields, target.labels and target.depends_on. */
const DIRECT: Record<string, (signal: Signal, rule: TemplateRule) => unknown> = {
  ...Object.fromEntries(VISIBLE_SIGNAL_FIELDS.filter((f) => !isMapField(f) || fieldLeaf(f) !== null).map((f) => [f.name, f.read] as const)),
  ...SCALARS,
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
