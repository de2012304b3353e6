import type { FastifyInstance } from 'fastify';
import { jsonPath } from '../sources/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's text, in contexts that keep it (acceptJsonOnly's keepText); else null. */
    jsonText: string | null;
  }
}

/** Deepest nesting of objects and arrays a body may have; real payloads stay far below it. */
export const MAX_JSON_DEPTH = 32;

/** Only whitespace (or nothing): fails at a body's first character. */
const BLANK = /^\s*$/;

/** A body's structural problem: where (a JSON path such as `labels.__proto__`) and why. */
export interface JsonBodyIssue {
  field: string;
  message: string;
}

/**
 * Makes JSON the only body a fastify context takes (anything else is a 415). Fastify's own JSON
 * parser hides the parse error; this one hands the parser's message to `invalid`, which builds
 * the caller's own 400 error. An empty body means "no body".
 *
 * A parsed body is also refused when it nests deeper than MAX_JSON_DEPTH (the recursive code after
 * the parser, validation included, would run out of stack on thousands of levels) or holds a
 * `__proto__` key (object code would drop it, or take it for the prototype).
 */
export function acceptJsonOnly(app: FastifyInstance, invalid: (issue: JsonBodyIssue) => Error, opts: { keepText?: boolean } = {}): void {
  app.removeAllContentTypeParsers();
  // keepText: the body's text stays on the request (jsonText), for the intake journal to write as received.
  if (opts.keepText) app.decorateRequest('jsonText', null);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // Not text.trim(): that copies every body to find the rare empty one.
    if (BLANK.test(text)) return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(invalid({ field: 'body', message: `is not valid JSON: ${(err as Error).message}` }), undefined);
    }
    const issue = structureIssue(value);
    if (issue !== null) return done(invalid(issue), undefined);
    if (opts.keepText) request.jsonText = text;
    done(null, value);
  });
}

interface Node {
  value: unknown;
  key: string | number;
  parent: Node | null;
  depth: number;
}

function pathOf(node: Node): string {
  const keys: (string | number)[] = [];
  for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) keys.push(n.key);
  return jsonPath(keys.reverse().map((k) => (typeof k === 'string' && k.length > 40 ? `${k.slice(0, 40)}…` : k)));
}

/**
 * The first nesting or `__proto__` problem of a parsed JSON value, or null. Iterative, so a body
 * nested thousands deep cannot overflow the stack here.
 */
export function structureIssue(root: unknown): JsonBodyIssue | null {
  const stack: Node[] = [{ value: root, key: '', parent: null, depth: 0 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (v === null || typeof v !== 'object') continue;
    const depth = node.depth + 1;
    if (depth > MAX_JSON_DEPTH) return { field: pathOf(node), message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    // Only objects and arrays go on the stack: a node per string or number (most of a body) cost
    // an allocation each to be popped and skipped.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const item: unknown = v[i];
        if (item !== null && typeof item === 'object') stack.push({ value: item, key: i, parent: node, depth });
      }
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const value = (v as Record<string, unknown>)[key];
      if (key === '__proto__') return { field: pathOf({ value, key, parent: node, depth }), message: 'key not allowed' };
      if (value !== null && typeof value === 'object') stack.push({ value, key, parent: node, depth });
    }
  }
  return null;
}
