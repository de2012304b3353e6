// Unit tests that admins keep beside their rules, like `promtool test rules`: a signal in, the
// expected matches out.
import { z } from 'zod';
import { IMPACTS, SEVERITIES, TIERS } from '../domain/classification.js';
import type { RuleEngine, RuleMatch } from './types.js';
import { signalFromInput, signalInputSchema } from './signal-input.js';

const expectationSchema = z.strictObject({
  rule: z.string().min(1),
  category: z.string().optional(),
  severity: z.enum(SEVERITIES).optional(),
  impact: z.enum(IMPACTS).optional(),
  tier: z.enum(TIERS).optional(),
  priority: z.enum(['P1', 'P2', 'P3', 'P4', 'P5']).optional(),
  title: z.string().optional(),
  /** Name of another test in the same file whose first match must have the same fingerprint. */
  fingerprint_same_as: z.string().min(1).optional(),
});

const ruleTestSchema = z.strictObject({
  name: z.string().min(1),
  signal: signalInputSchema,
  /** Every match expected, in order. Empty for a signal that must produce nothing (status ok). */
  expect: z.array(expectationSchema),
});

export const ruleTestFileSchema = z.strictObject({
  tests: z.array(ruleTestSchema).superRefine((tests, ctx) => {
    const seen = new Set<string>();
    tests.forEach((t, i) => {
      if (seen.has(t.name)) {
        ctx.addIssue({ code: 'custom', message: `test name '${t.name}' is used twice; names must be unique`, path: [i, 'name'] });
      }
      seen.add(t.name);
    });
  }),
});

export type RuleTestFile = z.infer<typeof ruleTestFileSchema>;
type RuleTest = RuleTestFile['tests'][number];
type Expectation = z.infer<typeof expectationSchema>;

export interface RuleTestResult {
  file: string;
  name: string;
  passed: boolean;
  /** Human lines, e.g. "expected severity severe, got medium (rule server-unreachable)". */
  failures: string[];
}

const CLASSIFICATION_FIELDS = ['category', 'severity', 'impact', 'tier', 'priority'] as const;

export function runRuleTests(engine: RuleEngine, files: { file: string; tests: RuleTest[] }[]): RuleTestResult[] {
  const results: RuleTestResult[] = [];
  for (const { file, tests } of files) {
    const matchesByName = new Map<string, RuleMatch[]>();
    for (const test of tests) matchesByName.set(test.name, engine.classify(signalFromInput(test.signal)));
    for (const test of tests) {
      const failures = checkTest(test, matchesByName);
      results.push({ file, name: test.name, passed: failures.length === 0, failures });
    }
  }
  return results;
}

function checkTest(test: RuleTest, matchesByName: Map<string, RuleMatch[]>): string[] {
  const got = matchesByName.get(test.name) ?? [];
  const failures: string[] = [];
  if (got.length !== test.expect.length) {
    failures.push(
      `expected ${countOf(test.expect.length)} (${listOf(test.expect.map((e) => e.rule))}), ` +
        `got ${countOf(got.length)} (${listOf(got.map((m) => m.ruleId))})`,
    );
  }
  test.expect.forEach((want, i) => {
    const match = got[i];
    if (!match) return;
    failures.push(...checkMatch(want, match, i, test.expect.length, matchesByName));
  });
  return failures;
}

function checkMatch(
  want: Expectation,
  match: RuleMatch,
  i: number,
  expected: number,
  matchesByName: Map<string, RuleMatch[]>,
): string[] {
  // With several matches, say which one a line is about.
  const which = expected > 1 ? `match ${i + 1}: ` : '';
  const failures: string[] = [];
  if (want.rule !== match.ruleId) {
    failures.push(`${which}expected rule ${want.rule}, got ${match.ruleId}`);
    // The remaining fields would compare against the wrong rule's output.
    return failures;
  }
  for (const field of CLASSIFICATION_FIELDS) {
    const w = want[field];
    const g = match.classification[field];
    if (w !== undefined && w !== g) failures.push(`${which}expected ${field} ${w}, got ${g} (rule ${match.ruleId})`);
  }
  if (want.title !== undefined && want.title !== match.title) {
    failures.push(`${which}expected title ${JSON.stringify(want.title)}, got ${JSON.stringify(match.title)} (rule ${match.ruleId})`);
  }
  if (want.fingerprint_same_as !== undefined) {
    const other = matchesByName.get(want.fingerprint_same_as);
    const first = other?.[0];
    if (other === undefined) {
      failures.push(`${which}fingerprint_same_as names '${want.fingerprint_same_as}', but no test in this file has that name`);
    } else if (first === undefined) {
      failures.push(`${which}fingerprint_same_as '${want.fingerprint_same_as}': that test's signal produced no match to compare with`);
    } else if (first.fingerprint !== match.fingerprint) {
      failures.push(
        `${which}expected the same fingerprint as test '${want.fingerprint_same_as}' (${first.fingerprint}, rule ${first.ruleId}), ` +
          `got ${match.fingerprint} (rule ${match.ruleId})`,
      );
    }
  }
  return failures;
}

function countOf(n: number): string {
  return `${n} match${n === 1 ? '' : 'es'}`;
}

function listOf(ids: string[]): string {
  return ids.length === 0 ? 'none' : ids.join(', ');
}
