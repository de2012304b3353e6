// A signal written by hand as JSON, for `incidentd rules explain`: parsed and checked with messages an
// admin can act on (FILE:LINE:COLUMN for broken JSON, the names of missing fields) instead of a stack.
import { z } from 'zod';
import { didYouMean } from '../config-core/yaml.js';
import type { Signal } from '../domain/signal.js';
import { signalFromInput, signalInputSchema } from './signal-input.js';

export type SignalFileResult = { ok: true; signal: Signal } | { ok: false; errors: string[] };

/** Parses `text` (the content of `name`, or of stdin when name is "-") into a signal. */
export function parseSignalFile(text: string, name: string): SignalFileResult {
  const where = name === '-' ? '<stdin>' : name;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [jsonErrorLine(text, where, err)] };
  }
  const parsed = signalInputSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return { ok: true, signal: signalFromInput(parsed.data) };

  const missing: string[] = [];
  const errors: string[] = [];
  for (const issue of parsed.error.issues) {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      missing.push(at);
    } else if (issue.code === 'unrecognized_keys') {
      const allowed = knownKeys(issue.path);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, allowed);
        const full = at ? `${at}.${key}` : key;
        errors.push(`${where}: unknown field "${full}"${suggestion ? ` (did you mean "${suggestion}"?)` : `; the fields here are ${allowed.join(', ')}`}`);
      }
    } else {
      errors.push(`${where}: ${at || '(the whole signal)'}: ${describeIssue(issue)}`);
    }
  }
  if (missing.length > 0) {
    errors.unshift(
      `${where}: missing required field${missing.length === 1 ? '' : 's'}: ${missing.join(', ')} ` +
        '(a signal needs at least {"target": {"id": "..."}, "check": {"name": "..."}})',
    );
  }
  return { ok: false, errors };
}

/** One line for a JSON syntax error, with the line and column Node only gives as an offset. */
function jsonErrorLine(text: string, where: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /at position (\d+)/.exec(message);
  const offset = m ? Number(m[1]) : /Unexpected end of JSON input/.test(message) ? text.length : null;
  const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/ of JSON input$/, ' of input');
  if (text.trim() === '') return `${where}: not JSON: the input is empty; give a signal such as examples/signal.json`;
  if (offset === null) return `${where}: not JSON: ${reason}`;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${where}:${line}:${column}: not JSON: ${reason}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    return `expected ${issue.expected}, got ${issue.input === null ? 'null' : Array.isArray(issue.input) ? 'a list' : typeof issue.input}`;
  }
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

/** The keys the schema allows at `path` (the signal, target or check), for a did-you-mean. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  const shape = signalInputSchema.shape;
  if (path.length === 0) return Object.keys(shape);
  if (path[0] === 'check') return Object.keys(shape.check.shape);
  if (path[0] === 'target') return ['id', 'kind', 'name', 'site', 'labels', 'dependsOn', 'depends_on'];
  return [];
}
