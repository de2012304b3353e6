// Generic YAML handling for every config file kind: parse with positions, interpolate ${ENV},
// validate against a zod schema, and turn every problem into a `file:line:column: message` issue.
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../shared/errors.js';

export type ConfigPath = (string | number)[];

/** One YAML file, parsed and interpolated, with what is needed to point at any of its nodes. */
export interface YamlSource {
  file: string;
  /** The file text as read. */
  text: string;
  doc: YAML.Document;
  lineCounter: LineCounter;
  /** The plain data after interpolation; an empty file is `{}`. */
  data: unknown;
  /** Paths (see `pathKey`) of string values that came out of ${ENV} interpolation. */
  interpolated: Set<string>;
  /** Paths of values whose interpolation failed (already reported). */
  brokenInterpolation: Set<string>;
  /** YAML syntax and interpolation problems. */
  issues: ConfigIssue[];
}

export function pathKey(path: ConfigPath): string {
  return JSON.stringify(path);
}

/** How many aliases one file may expand; past it the file is refused (an alias bomb). */
export const MAX_ALIAS_COUNT = 1000;

/** Parses `text` and interpolates ${ENV} in string values. Never throws; problems land in `issues`. */
export function readYaml(file: string, text: string, env: NodeJS.ProcessEnv): YamlSource {
  const lineCounter = new LineCounter();
  let doc: YAML.Document;
  try {
    // uniqueKeys: false turns off the library's duplicate key check, which compares every key of a
    // mapping with every other (a 2 MB file took 9 s); duplicateKeys below does it with one Set
    // per mapping.
    doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (err) {
    // The parser recurses per nesting level; a file nested deep enough exhausts the stack.
    const empty = new YAML.Document();
    const src: YamlSource = { file, text, doc: empty, lineCounter, data: {}, interpolated: new Set(), brokenInterpolation: new Set(), issues: [] };
    empty.errors.push(new YAML.YAMLParseError([0, 0], 'IMPOSSIBLE', hostileMessage(err)));
    src.issues.push({ file, line: 1, column: 1, message: hostileMessage(err) });
    return src;
  }
  const src: YamlSource = { file, text, doc, lineCounter, data: {}, interpolated: new Set(), brokenInterpolation: new Set(), issues: [] };
  try {
    duplicateKeys(doc);
  } catch (err) {
    doc.errors.push(new YAML.YAMLParseError([0, 0], 'IMPOSSIBLE', hostileMessage(err)));
  }
  // In file order, as the library reported its own duplicate keys among its other errors.
  doc.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  for (const err of doc.errors) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    src.issues.push({ file, line, column: col, message: yamlErrorMessage(err, text) });
  }
  if (doc.errors.length > 0) return src;
  try {
    // Interpolate on the parsed tree, not the raw text, so every position stays what the admin sees.
    interpolateNode(src, doc.contents, [], env);
    src.data = doc.contents === null ? {} : (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {});
    narrowStrings(text, src.data);
  } catch (err) {
    // An alias bomb (toJS refuses past maxAliasCount) or nesting deep enough to exhaust the stack.
    // The file counts as unparsable: callers skip files whose document has errors.
    const at = firstAlias(doc);
    const { line, col } = lineCounter.linePos(err instanceof ReferenceError && at !== undefined ? at : 0);
    doc.errors.push(new YAML.YAMLParseError([0, 0], 'IMPOSSIBLE', hostileMessage(err)));
    src.issues.push({ file, line, column: col, message: hostileMessage(err) });
    src.data = {};
  }
  return src;
}

/** A character only a two-byte string can hold. */
const WIDE = /[\u0100-\uffff]/;

/**
 * V8 stores a text with any character above U+00FF (a `…` or `→` in a comment) two bytes per
 * character, and every scalar the parser cuts out of it too, however plain. Those values then cost
 * twice the memory, and each incident a rule opens flattened its title, description and runbook
 * (its templates' pieces) from the wide form before converting them to SQLite's UTF-8 (~1 % of the
 * CPU of bench:ingest 100:new with the shipped files). Replaces each string of `data` that fits in
 * one byte per character by a one-byte copy, in place; strings that need two bytes stay as they are.
 */
export function narrowStrings(text: string, data: unknown): void {
  if (!WIDE.test(text)) return;
  const seen = new Set<object>();
  const stack: unknown[] = [data];
  const narrow = (v: string): string => (WIDE.test(v) ? v : Buffer.from(v, 'latin1').toString('latin1'));
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    // Aliases can share one object between several places.
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'string') value[i] = narrow(item);
        else stack.push(item);
      }
    } else {
      const map = value as Record<string, unknown>;
      // Keys need nothing: V8 interns them, one byte per character where they fit.
      for (const key of Object.keys(map)) {
        const item = map[key];
        if (typeof item === 'string') map[key] = narrow(item);
        else stack.push(item);
      }
    }
  }
}

/**
 * Adds a DUPLICATE_KEY error for every key written twice in one mapping, at the second one, in
 * time linear in the size of the document. Keys are compared by type and value, as the library
 * does (`1` and `"1"` are different keys); keys that are themselves collections are not compared.
 */
function duplicateKeys(doc: YAML.Document): void {
  YAML.visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) continue;
        const value = key.value;
        const id = typeof value === 'string' ? value : `\u0000${typeof value}:${String(value)}`;
        if (seen.has(id)) {
          const at = key.range?.[0] ?? 0;
          doc.errors.push(new YAML.YAMLParseError([at, at + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
        } else {
          seen.add(id);
        }
      }
    },
  });
}

function hostileMessage(err: unknown): string {
  if (err instanceof ReferenceError && /alias/i.test(err.message)) {
    return `YAML aliases expand to more than ${MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out or use fewer aliases`;
  }
  if (err instanceof RangeError) return 'YAML nested too deeply to read; flatten the structure';
  return `YAML cannot be read: ${err instanceof Error ? err.message : String(err)}`;
}

/** Offset of the first alias (`*name`) in the document, where an alias bomb is set off. */
function firstAlias(doc: YAML.Document): number | undefined {
  let offset: number | undefined;
  YAML.visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return YAML.visit.BREAK;
    },
  });
  return offset;
}

function yamlErrorMessage(err: YAML.YAMLError, text: string): string {
  if (err.code === 'DUPLICATE_KEY') {
    // The error marks only the key's first character; the key runs up to its colon.
    const key = (/^[^:\n]+/.exec(text.slice(err.pos[0]))?.[0] ?? '').trim();
    if (key) return `YAML syntax error: duplicate key "${key}" (each key may appear once per mapping)`;
  }
  // Without prettyErrors the message is the bare description; keep only its first line.
  const first = err.message.split('\n')[0] ?? err.message;
  return `YAML syntax error: ${first.replace(/\.$/, '')}`;
}

const REF = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function interpolateNode(src: YamlSource, node: unknown, path: ConfigPath, env: NodeJS.ProcessEnv): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (typeof key !== 'string' && typeof key !== 'number') continue;
      interpolateNode(src, pair.value, [...path, key], env);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => interpolateNode(src, item, [...path, i], env));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    const out = interpolateString(node.value, env);
    for (const message of out.problems) src.issues.push({ ...positionOf(src, path), file: src.file, message });
    if (out.problems.length > 0) src.brokenInterpolation.add(pathKey(path));
    node.value = out.text;
    src.interpolated.add(pathKey(path));
  }
}

/** Expands `${NAME}` and `${NAME:-default}`; `$${` is a literal `${`. */
export function interpolateString(text: string, env: NodeJS.ProcessEnv): { text: string; problems: string[] } {
  const problems: string[] = [];
  const result = text.replace(REF, (match: string, inner: string | undefined) => {
    if (match === '$${') return '${';
    if (inner === undefined) {
      problems.push('unterminated "${": close it with "}" or write "$${" for a literal "${"');
      return match;
    }
    const sep = inner.indexOf(':-');
    const name = sep === -1 ? inner : inner.slice(0, sep);
    if (!VAR_NAME.test(name)) {
      problems.push(`"\${${inner}}" is not a valid environment variable reference (use \${NAME} or \${NAME:-default})`);
      return match;
    }
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (sep !== -1) return inner.slice(sep + 2);
    if (value === '') return value;
    problems.push(`environment variable ${name} is not set (set it, or give a default: \${${name}:-value})`);
    return match;
  });
  return { text: result, problems };
}

/**
 * The 1-based position of the node at `path`: of the key when `at` is 'key', else of the value.
 * Falls back to the nearest existing parent when the path does not exist (e.g. a missing key).
 */
export function positionOf(
  src: Pick<YamlSource, 'doc' | 'lineCounter'>,
  path: ConfigPath,
  at: 'key' | 'value' = 'value',
): { line: number; column: number } {
  const { doc, lineCounter } = src;
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyStart = rangeStart(pair.key) ?? offset;
      const value = pair.value;
      const valueStart = rangeStart(value);
      const emptyValue = value === null || (isScalar(value) && value.value === null && value.source === '');
      if (last && at === 'key') {
        offset = keyStart;
      } else {
        offset = emptyValue || valueStart === undefined ? keyStart : valueStart;
      }
      node = value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      const start = rangeStart(item);
      if (item === undefined || start === undefined) break;
      offset = start;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** The YAML node at `path`, or undefined when the path does not exist. */
export function nodeAt(src: Pick<YamlSource, 'doc'>, path: ConfigPath): unknown {
  let node: unknown = src.doc.contents;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(src.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return undefined;
    }
  }
  return node ?? undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** `file:line:column` of the node at `path`, for messages that point at a second place. */
export function formatPosition(src: YamlSource, path: ConfigPath): string {
  const { line, column } = positionOf(src, path);
  return `${src.file}:${line}:${column}`;
}

export function issueAt(src: YamlSource, path: ConfigPath, message: string, at: 'key' | 'value' = 'value'): ConfigIssue {
  return { file: src.file, ...positionOf(src, path, at), message };
}

/** Reads the plain value at `path` of `data`, or undefined. */
export function valueAt(data: unknown, path: ConfigPath): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function setValueAt(data: unknown, path: ConfigPath, value: unknown): void {
  const parent = valueAt(data, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object') {
    (parent as Record<string | number, unknown>)[path[path.length - 1]!] = value;
  }
}

/**
 * Validates `data` (the value found at `basePath` of `src`) against `schema`. Issues are positioned
 * in `src`. Interpolated strings are coerced to numbers or booleans where the schema asks for one,
 * since `port: ${PORT:-9740}` is a string after interpolation.
 */
export function validateAt<T>(
  src: YamlSource,
  schema: z.ZodType<T>,
  data: unknown,
  basePath: ConfigPath = [],
  opts: { extraKeys?: string[] } = {},
): { ok: true; value: T } | { ok: false; issues: ConfigIssue[] } {
  const coerced = new Set<string>();
  for (;;) {
    // Made only when there are unknown keys: this runs for every check of every target.
    let known: WeakMap<object, string[]> | undefined;
    const result = schema.safeParse(data, {
      reportInput: true,
      error: (iss) => {
        // Remember the allowed keys of the object so unknown keys can get a did-you-mean.
        if (iss.code === 'unrecognized_keys' && iss.input && typeof iss.input === 'object') {
          const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
          if (shape) (known ??= new WeakMap()).set(iss.input, Object.keys(shape));
        }
        return messageFor(iss);
      },
    });
    if (result.success) return { ok: true, value: result.data };

    let retried = false;
    for (const iss of result.error.issues) {
      if (iss.code !== 'invalid_type' || typeof iss.input !== 'string') continue;
      const rel = iss.path as ConfigPath;
      const full = [...basePath, ...rel];
      if (!src.interpolated.has(pathKey(full)) || coerced.has(pathKey(rel))) continue;
      const replacement = coerceScalar(iss.input, iss.expected);
      if (replacement === undefined) continue;
      if (rel.length === 0) data = replacement;
      else setValueAt(data, rel, replacement);
      coerced.add(pathKey(rel));
      retried = true;
    }
    if (retried) continue;

    const issues: ConfigIssue[] = [];
    for (const iss of result.error.issues) issues.push(...toConfigIssues(src, iss, basePath, known ?? new WeakMap(), opts.extraKeys ?? []));
    return { ok: false, issues: sortIssues(issues) };
  }
}

function coerceScalar(text: string, expected: string): number | boolean | undefined {
  const t = text.trim();
  if ((expected === 'number' || expected === 'int') && /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (expected === 'boolean' && (t === 'true' || t === 'false')) return t === 'true';
  return undefined;
}

/**
 * The one error map of every configuration file: each zod issue in words an admin understands,
 * naming what was expected and what was found (never zod's bare "Invalid input"). Messages a
 * schema sets itself (`error:` on the schema) win, as zod calls this map only when there is none.
 */
function messageFor(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) {
        const key = iss.path?.[iss.path.length - 1];
        return typeof key === 'string' ? `missing required key "${key}"` : `missing ${describeExpected(iss.expected)}`;
      }
      return `expected ${describeExpected(iss.expected)}, got ${describeFound(iss.input, [iss.expected])}`;
    }
    case 'invalid_value': {
      const options = iss.values.map((v) => JSON.stringify(v)).join(', ');
      if (iss.values.length === 1) return `must be ${options}, got ${describeValue(iss.input)}`;
      const suggestion = typeof iss.input === 'string' ? didYouMean(iss.input, iss.values.map(String)) : null;
      return `must be one of ${options}, got ${describeValue(iss.input)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = String(iss.code === 'too_small' ? iss.minimum : iss.maximum);
      const inclusive = iss.inclusive !== false;
      if (iss.origin === 'string' && iss.code === 'too_small' && bound === '1') return 'must not be empty';
      if (iss.origin === 'array' && iss.code === 'too_small' && bound === '1') return 'must list at least one entry';
      const what = iss.origin === 'array' ? ' entries' : iss.origin === 'string' ? ' characters' : '';
      const word = iss.code === 'too_small' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return `must be ${word} ${bound}${what}, got ${describeValue(iss.input)}`;
    }
    case 'invalid_union':
      return unionMessage(iss);
    case 'invalid_format': {
      const pattern = iss.format === 'regex' && 'pattern' in iss ? ` matching ${String(iss.pattern)}` : '';
      return `expected ${iss.format === 'regex' ? 'text' : `a valid ${iss.format}`}${pattern}, got ${describeValue(iss.input)}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${String(iss.divisor)}, got ${describeValue(iss.input)}`;
    case 'invalid_key':
      return `key ${describeValue(iss.input)} is not allowed here`;
    case 'invalid_element':
      return `entry ${describeValue(iss.input)} is not allowed here`;
    case 'unrecognized_keys':
      return `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      // A refinement without a message of its own: say at least what was refused.
      return `the value ${describeValue(iss.input)} is not accepted here`;
  }
}

/**
 * A value that fits none of a union's options. When the value has the type of exactly one option
 * and only fails inside it (a list with one bad entry), that option's own problem is the message;
 * otherwise every option is listed: `expected one of "L1", "L2", "L3" or null, got "L4"`.
 */
function unionMessage(iss: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>): string {
  const options = iss.errors ?? [];
  const expected: string[] = [];
  const typeNames: string[] = [];
  const values: string[] = [];
  const inside: z.core.$ZodIssue[][] = [];
  for (const issues of options) {
    const first = issues[0];
    if (issues.length === 1 && first && first.path.length === 0 && first.code === 'invalid_type') {
      expected.push(first.expected === 'null' ? 'null' : describeExpected(first.expected));
      typeNames.push(first.expected);
    } else if (issues.length === 1 && first && first.path.length === 0 && first.code === 'invalid_value') {
      const list = first.values.map((v) => JSON.stringify(v));
      values.push(...first.values.map(String));
      expected.push(list.length === 1 ? list[0]! : `one of ${list.join(', ')}`);
    } else {
      inside.push(issues);
    }
  }
  if (inside.length === 1) {
    const first = inside[0]![0];
    if (first) {
      const where = first.path.length > 0 ? `${first.path.map((p) => (typeof p === 'number' ? `entry ${p + 1}` : String(p))).join('.')}: ` : '';
      return `${where}${first.message}`;
    }
  }
  if (inside.length > 1 || expected.length === 0) return `the value ${describeValue(iss.input)} fits none of the allowed forms`;
  const joined = expected.length === 1 ? expected[0]! : `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]!}`;
  // Two letters are one edit from any other two (L4, L1): a suggestion would be a guess.
  const suggestion = typeof iss.input === 'string' && iss.input.length > 2 && values.length > 0 ? didYouMean(iss.input, values) : null;
  return `expected ${joined}, got ${describeFound(iss.input, typeNames)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
}

/** The found value; a number or boolean written in quotes is pointed out, as YAML reads it as text. */
function describeFound(input: unknown, expected: readonly string[]): string {
  if (typeof input === 'string') {
    const t = input.trim();
    const wantsNumber = expected.includes('number') || expected.includes('int');
    if (wantsNumber && /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(t)) return `the string ${describeValue(input)} (write the number without quotes: ${t})`;
    if (expected.includes('boolean') && (t === 'true' || t === 'false')) return `the string ${describeValue(input)} (write ${t} without quotes)`;
    return `the string ${describeValue(input)}`;
  }
  return describeValue(input);
}

function toConfigIssues(
  src: YamlSource,
  iss: z.core.$ZodIssue,
  basePath: ConfigPath,
  known: WeakMap<object, string[]>,
  extraKeys: string[],
): ConfigIssue[] {
  const path = [...basePath, ...(iss.path as ConfigPath)];
  // The interpolation problem at this value was reported already; a second message adds nothing.
  if (src.brokenInterpolation.has(pathKey(path))) return [];
  if (iss.code === 'unrecognized_keys') {
    // Keys validated elsewhere (e.g. a check's common fields) are valid suggestions at the base too.
    const allowed = [
      ...(iss.input && typeof iss.input === 'object' ? (known.get(iss.input) ?? []) : []),
      ...(iss.path.length === 0 ? extraKeys : []),
    ];
    return iss.keys.map((key) => issueAt(src, [...path, key], unknownKeyMessage(key, allowed), 'key'));
  }
  if (iss.code === 'invalid_union' && 'discriminator' in iss && iss.discriminator) {
    const options = ((iss as { options?: unknown[] }).options ?? []).map(String);
    const got = valueAt(src.data, path);
    if (got === undefined) {
      return [issueAt(src, path, `missing required key "${iss.discriminator}" (one of ${options.join(', ')})`)];
    }
    const suggestion = typeof got === 'string' ? didYouMean(got, options) : null;
    return [
      issueAt(
        src,
        path,
        `unknown ${iss.discriminator} ${describeValue(got)}: must be one of ${options.join(', ')}` +
          (suggestion ? ` (did you mean "${suggestion}"?)` : ''),
      ),
    ];
  }
  return [issueAt(src, path, withFound(iss.message, iss.input))];
}

/**
 * A message a schema set itself ("expected an http:// or https:// URL") with the value found added
 * when it does not show it already, so every message says what was expected and what was found.
 */
function withFound(message: string, input: unknown): string {
  if (input === undefined || (typeof input === 'object' && input !== null)) return message;
  const shown = describeValue(input);
  if (/\bgot\b/.test(message) || message.includes(shown) || (typeof input === 'string' && input !== '' && message.includes(`"${input}"`))) return message;
  return `${message}, got ${shown}`;
}

function describeExpected(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object') return 'a mapping (key: value)';
  if (expected === 'array') return 'a list';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

export function unknownKeyMessage(key: string, allowed: string[]): string {
  const suggestion = didYouMean(key, allowed);
  if (suggestion) return `unknown key "${key}" (did you mean "${suggestion}"?)`;
  return allowed.length > 0 ? `unknown key "${key}" (allowed: ${allowed.join(', ')})` : `unknown key "${key}"`;
}

/** The closest candidate within a small edit distance, or null. */
export function didYouMean(input: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(input.length / 3));
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Edit distance where swapping two neighbouring letters ("prot" for "port") counts as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Parses, interpolates and validates one YAML file against `schema`. */
export function parseYamlFile<T>(
  file: string,
  text: string,
  schema: z.ZodType<T>,
  env: NodeJS.ProcessEnv,
):
  | { value: T; doc: YAML.Document; lineCounter: LineCounter; source: YamlSource; issues: [] }
  | { value: null; issues: ConfigIssue[] } {
  const src = readYaml(file, text, env);
  if (src.doc.errors.length > 0) return { value: null, issues: src.issues };
  const result = validateAt(src, schema, src.data);
  if (!result.ok || src.issues.length > 0) {
    return { value: null, issues: sortIssues([...src.issues, ...(result.ok ? [] : result.issues)]) };
  }
  return { value: result.value, doc: src.doc, lineCounter: src.lineCounter, source: src, issues: [] };
}

/** Durations in YAML are strings like "30s", "5m", "1h30m". */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
