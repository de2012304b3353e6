// Reads and checks the rule unit tests in <rules>/tests/*.yaml: the schema (strict keys, with a
// did-you-mean for a misspelt one), and that every rule and test they name exists. `validate` and
// `rules test` both go through here, so a test file that `validate` accepts is one `rules test` runs.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigIssue } from '../shared/errors.js';
import { didYouMean, issueAt, readYaml, validateAt, type YamlSource } from '../config-core/yaml.js';
import { DEFAULT_MAX_FILE_BYTES } from '../config-core/schemas.js';
import { UNCATEGORIZED_RULE_ID } from './compile.js';
import { ruleTestFileSchema, type RuleTestFile } from './rule-tests.js';

export interface RuleTestFileContent {
  file: string;
  tests: RuleTestFile['tests'];
}

export interface RuleTestFilesResult {
  /** The files without problems, in name order. */
  files: RuleTestFileContent[];
  /** Every file read, in name order. */
  read: string[];
  issues: ConfigIssue[];
}

export interface RuleTestFilesOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * The ids of the loaded rules; an expectation naming another id is an error. Null when the rule
   * files had errors of their own: a rule that failed to load would then be reported twice, once
   * as broken and once as unknown.
   */
  ruleIds: readonly string[] | null;
  maxFileBytes?: number;
}

/** The folder of rule tests beside the rules: <rules>/tests. */
export function ruleTestsDir(rulesDir: string): string {
  return path.join(rulesDir, 'tests');
}

/**
 * Reads every <rules>/tests/*.yaml. A rules folder without a tests folder has no tests, which is
 * no problem; every problem of every file is returned, none is thrown.
 */
export async function readRuleTestFiles(rulesDir: string, opts: RuleTestFilesOptions): Promise<RuleTestFilesResult> {
  const dir = ruleTestsDir(rulesDir);
  const result: RuleTestFilesResult = { files: [], read: [], issues: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return result;
    const message = code === 'ENOTDIR' ? 'is a file; rule tests belong in a folder named tests beside the rule files' : `cannot read directory: ${(err as Error).message}`;
    result.issues.push({ file: dir, line: 1, column: 1, message });
    return result;
  }
  const known = opts.ruleIds === null ? null : [...opts.ruleIds, UNCATEGORIZED_RULE_ID];
  for (const name of names.filter((n) => /\.ya?ml$/i.test(n)).sort()) {
    const file = path.join(dir, name);
    const text = await readText(file, opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, result.issues);
    if (text === null) continue;
    result.read.push(file);
    const src = readYaml(file, text, opts.env ?? process.env);
    result.issues.push(...src.issues);
    if (src.doc.errors.length > 0) continue;
    const parsed = validateAt(src, ruleTestFileSchema, src.data);
    // Read from the raw data, so that a misspelt key elsewhere in the file does not hide them.
    const named = namedThingIssues(src, rawTests(src.data), known);
    const issues = [...(parsed.ok ? [] : parsed.issues), ...named].sort((a, b) => a.line - b.line || a.column - b.column);
    result.issues.push(...issues);
    if (parsed.ok && src.issues.length === 0 && named.length === 0) result.files.push({ file, tests: parsed.value.tests });
  }
  return result;
}

/** The parts of the tests that name things, as far as they are written the right way. */
interface RawTest {
  name?: string | undefined;
  expect: { rule?: string | undefined; fingerprint_same_as?: string | undefined }[];
}

function rawTests(data: unknown): RawTest[] {
  const tests = (data as { tests?: unknown } | null)?.tests;
  if (!Array.isArray(tests)) return [];
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return tests.map((t: unknown) => {
    const test = (t ?? {}) as { name?: unknown; expect?: unknown };
    const expect = Array.isArray(test.expect) ? test.expect : [];
    return {
      name: text(test.name),
      expect: expect.map((e: unknown) => {
        const want = (e ?? {}) as { rule?: unknown; fingerprint_same_as?: unknown };
        return { rule: text(want.rule), fingerprint_same_as: text(want.fingerprint_same_as) };
      }),
    };
  });
}

/** Expectations naming a rule that does not exist, or a test (fingerprint_same_as) not in the file. */
function namedThingIssues(src: YamlSource, tests: RawTest[], ruleIds: readonly string[] | null): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const ids = ruleIds === null ? null : new Set(ruleIds);
  const testNames = tests.flatMap((t) => (t.name === undefined ? [] : [t.name]));
  tests.forEach((test, i) => {
    test.expect.forEach((want, j) => {
      if (ids !== null && ruleIds !== null && want.rule !== undefined && want.rule !== '' && !ids.has(want.rule)) {
        const suggestion = didYouMean(want.rule, ruleIds);
        issues.push(
          issueAt(
            src,
            ['tests', i, 'expect', j, 'rule'],
            `no rule has the id "${want.rule}"` +
              (suggestion ? ` (did you mean "${suggestion}"?)` : `; the rules are ${listIds(ruleIds)}`),
          ),
        );
      }
      const other = want.fingerprint_same_as;
      if (other !== undefined && !testNames.includes(other)) {
        const suggestion = didYouMean(other, testNames);
        issues.push(
          issueAt(
            src,
            ['tests', i, 'expect', j, 'fingerprint_same_as'],
            `no test in this file is named "${other}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          ),
        );
      }
    });
  });
  return issues;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 20).join(', ');
  return ids.length > 20 ? `${shown} and ${ids.length - 20} more` : shown;
}

async function readText(file: string, maxBytes: number, issues: ConfigIssue[]): Promise<string | null> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return null;
    if (info.size > maxBytes) {
      issues.push({ file, line: 1, column: 1, message: `file is ${info.size} bytes, larger than config.max_file_bytes (${maxBytes}); split it` });
      return null;
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    issues.push({ file, line: 1, column: 1, message: `cannot read file: ${(err as Error).message}` });
    return null;
  }
}
