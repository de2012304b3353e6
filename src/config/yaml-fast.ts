// The fast way to read a probe file: js-yaml builds the plain data of a 10 MB inventory in about a
// second and a few hundred MB, where the `yaml` library's Document (with a position for every node)
// takes over ten seconds and over a GB. js-yaml keeps no positions and differs from the `yaml`
// library in details, so it is used only for files it reads exactly as readYaml (./yaml.ts) does:
// anything it cannot read, or might read differently, gives null and the caller reads the file the
// precise way, which reports every problem as FILE:LINE:COLUMN.
import jsyaml from 'js-yaml';
import YAML, { LineCounter } from 'yaml';
import type { ConfigIssue } from '../shared/errors.js';
import { interpolateString, narrowStrings, pathKey, type ConfigPath, type YamlSource } from '../config-core/yaml.js';

// The YAML 1.2 core schema exactly as the `yaml` library resolves plain scalars (its
// schema/core/*.js, in its order), so that `0b101`, `-.5`, `yes` or `2024-01-01` come out the same
// (js-yaml's own core schema reads `0b101` as 5 and `-.5` as a string). Explicit tags (`!!int`,
// `!!str`, `!custom`) are deliberately unknown to this schema: js-yaml then throws, and such a file
// is read the precise way.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

// The tags are private names: `!!int 5` must not find these types.
const scalar = (name: string, test: RegExp, construct: (s: string) => unknown) =>
  new jsyaml.Type(`tag:incidentd.invalid,2026:${name}`, { kind: 'scalar', resolve: (s: string) => test.test(s), construct });

const FAST_SCHEMA = new jsyaml.Schema({
  implicit: [
    scalar('null', NULL, () => null),
    scalar('bool', BOOL, (s) => s[0] === 't' || s[0] === 'T'),
    scalar('int-oct', INT_OCT, (s) => parseInt(s.substring(2), 8)),
    scalar('int', INT, (s) => parseInt(s, 10)),
    scalar('int-hex', INT_HEX, (s) => parseInt(s.substring(2), 16)),
    scalar('float-nan', FLOAT_NAN, (s) =>
      s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
    ),
    scalar('float-exp', FLOAT_EXP, (s) => parseFloat(s)),
    scalar('float', FLOAT, (s) => parseFloat(s)),
  ],
});

/** Keys the two libraries turn into different object keys (`~:` is "" in one, "null" in the other). */
const AMBIGUOUS_KEYS = new Set(['', 'null']);

/** Thrown inside the js-yaml listener to stop reading a file the fast way. */
class NotFast extends Error {}

/** What js-yaml's parser state holds beyond its published type. */
interface ParserState {
  input: string;
  position: number;
  kind: string | null;
  result: unknown;
  tag: string | null;
  anchor: string | null;
}

/**
 * Reads `text` with js-yaml when that gives exactly the data readYaml would, interpolating ${ENV}
 * the same way. Null when the file has anything the fast way does not handle (a syntax error, a
 * duplicate key, an anchor or alias, a tag, a directive, a key that is a collection or null, a
 * quoted or plain scalar or flow collection written over several lines, an interpolation problem):
 * the caller then uses readYaml. The `doc` and `lineCounter` of the result are built on first use,
 * for messages that point into a file that loaded cleanly.
 */
export function readYamlFast(file: string, text: string, env: NodeJS.ProcessEnv): YamlSource | null {
  // %YAML 1.1 changes the schema in the `yaml` library (`yes` is true there); %TAG renames tags.
  if (text.startsWith('%') || text.includes('\n%')) return null;
  // Collections js-yaml built. One node can be reported twice in a row (by a nested call that
  // gave its result to the outer one); counting one more than that only sends the file the precise way.
  let collections = 0;
  let lastClosed: unknown = undefined;
  const opened: number[] = [];
  let data: unknown;
  try {
    data = jsyaml.load(text, {
      schema: FAST_SCHEMA,
      listener(event, state) {
        const s = state as unknown as ParserState;
        if (event === 'open') {
          opened.push(s.position);
          return;
        }
        const start = contentStart(s.input, opened.pop() ?? 0);
        // Anchors and aliases: refused outright, so no alias can expand (an alias bomb).
        if (s.anchor !== null) throw new NotFast('anchor');
        // The non-specific tag `!` (other tags are unknown to FAST_SCHEMA and throw already).
        if (s.tag === '!') throw new NotFast('tag');
        if (s.kind === 'mapping' || s.kind === 'sequence') {
          if (s.result !== lastClosed) collections++;
          lastClosed = s.result;
          const c = s.input.charCodeAt(start);
          // A flow collection over several lines: the `yaml` library checks its indentation.
          if ((c === 0x5b /* [ */ || c === 0x7b) /* { */ && s.input.lastIndexOf('\n', s.position - 1) >= start) throw new NotFast('flow');
        } else if (s.kind === 'scalar') {
          const c = s.input.charCodeAt(start);
          // A plain or quoted scalar over several lines (js-yaml does not check how its lines are
          // indented); block scalars (| and >) are read alike.
          if (c !== 0x7c /* | */ && c !== 0x3e /* > */ && s.input.lastIndexOf('\n', s.position - 1) >= start) throw new NotFast('multi-line');
        }
      },
    });
  } catch {
    // Any error at all: the precise way reports it (or reads the file, if only js-yaml objects).
    return null;
  }
  // An empty file (or one that is only `~`) is `{}`, as in readYaml.
  const empty = data === undefined || data === null;
  const src = new FastYamlSource(file, text, empty ? {} : data);
  const walk = new Walk(src, env);
  if (!walk.visit(src.data, [])) return null;
  // A collection used as a key does not appear in the data (js-yaml makes it a string).
  if (walk.collections !== collections + (empty ? 1 : 0)) return null;
  narrowStrings(text, src.data);
  return src;
}

/** Where the content of a node starts: after spaces, line breaks and comments. */
function contentStart(input: string, from: number): number {
  let i = from;
  for (;;) {
    const c = input.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
    } else if (c === 0x23 /* # */) {
      const eol = input.indexOf('\n', i);
      if (eol === -1) return input.length;
      i = eol + 1;
    } else {
      return i;
    }
  }
}

/** Interpolates ${ENV} in string values (as readYaml does), counts collections and checks keys. */
class Walk {
  collections = 0;

  constructor(
    private readonly src: FastYamlSource,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** False when the file must be read the precise way. Iterative: nesting depth is unbounded. */
  visit(root: unknown, rootPath: ConfigPath): boolean {
    const stack: { value: unknown; path: ConfigPath }[] = [{ value: root, path: rootPath }];
    while (stack.length > 0) {
      const { value, path } = stack.pop()!;
      if (Array.isArray(value)) {
        this.collections++;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (typeof item === 'string') {
            const out = this.interpolate(item, path, i);
            if (out === null) return false;
            value[i] = out;
          } else if (item !== null && typeof item === 'object') {
            stack.push({ value: item, path: [...path, i] });
          }
        }
      } else if (value !== null && typeof value === 'object') {
        this.collections++;
        const map = value as Record<string, unknown>;
        for (const key of Object.keys(map)) {
          if (AMBIGUOUS_KEYS.has(key) || key === '__proto__') return false;
          const item = map[key];
          if (typeof item === 'string') {
            const out = this.interpolate(item, path, key);
            if (out === null) return false;
            map[key] = out;
          } else if (item !== null && typeof item === 'object') {
            stack.push({ value: item, path: [...path, key] });
          }
        }
      }
    }
    return true;
  }

  /** The string with ${ENV} expanded; null when that has a problem or its path is ambiguous. */
  private interpolate(text: string, parent: ConfigPath, key: string | number): string | null {
    if (!text.includes('${')) return text;
    const path = [...parent, key];
    // readYaml records the path with the key as the `yaml` library typed it (`1:` is the number 1,
    // `true:` is not interpolated below at all); here every key is a string, so a key that might
    // not have been one is left to the precise way.
    for (const seg of path) {
      if (typeof seg === 'string' && (NULL.test(seg) || BOOL.test(seg) || looksNumeric(seg))) return null;
    }
    const out = interpolateString(text, this.env);
    if (out.problems.length > 0) return null;
    this.src.interpolated.add(pathKey(path));
    return out.text;
  }
}

function looksNumeric(s: string): boolean {
  return INT_OCT.test(s) || INT.test(s) || INT_HEX.test(s) || FLOAT_NAN.test(s) || FLOAT_EXP.test(s) || FLOAT.test(s);
}

/** A file read the fast way: its Document (for positions) is parsed only if asked for. */
class FastYamlSource implements YamlSource {
  readonly interpolated = new Set<string>();
  readonly brokenInterpolation = new Set<string>();
  readonly issues: ConfigIssue[] = [];
  readonly fast = true;
  private parsed: { doc: YAML.Document; lineCounter: LineCounter } | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
    public data: unknown,
  ) {}

  get doc(): YAML.Document {
    return this.precise().doc;
  }

  get lineCounter(): LineCounter {
    return this.precise().lineCounter;
  }

  private precise(): { doc: YAML.Document; lineCounter: LineCounter } {
    if (!this.parsed) {
      const lineCounter = new LineCounter();
      // Only positions are read from it: keys are never interpolated, and the file parsed cleanly.
      const doc = YAML.parseDocument(this.text, { lineCounter, prettyErrors: false, uniqueKeys: false });
      this.parsed = { doc, lineCounter };
    }
    return this.parsed;
  }
}
