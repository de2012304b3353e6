// rules/*.yaml: each rule validated on its own, then all compiled together into the rule engine.
import { isScalar } from 'yaml';
import { z } from 'zod';
import type { ConfigIssue } from '../shared/errors.js';
import { compileWhen, formatCelProblem } from '../rules/cel.js';
import { compileRules } from '../rules/compile.js';
import { toRuleConfig, type RuleConfig } from '../rules/config.js';
import type { RuleEngine, RuleEngineHooks } from '../rules/types.js';
import { formatPosition, issueAt, nodeAt, readYaml, validateAt, type ConfigPath, type YamlSource } from '../config-core/yaml.js';
import { readText } from './files.js';
import type { IssueList } from './issues.js';
import { ruleSchema } from './schemas.js';
import type { DaemonConfig } from './types.js';

const rulesTopSchema = z.strictObject({ rules: z.array(z.unknown()) });

export async function loadRuleFiles(
  ruleFiles: string[],
  env: NodeJS.ProcessEnv,
  uncategorized: DaemonConfig['incidents']['uncategorized'],
  issues: IssueList,
  warnings: IssueList,
  files: string[],
  hooks: RuleEngineHooks,
  maxFileBytes: number,
): Promise<{ rules: RuleConfig[]; engine: RuleEngine }> {
  const rules: RuleConfig[] = [];
  const where: { src: YamlSource; index: number }[] = [];
  const firstById = new Map<string, { src: YamlSource; index: number }>();

  for (const file of ruleFiles) {
    const text = await readText(file, issues, maxFileBytes);
    if (text === null) continue;
    files.push(file);
    const src = readYaml(file, text, env);
    issues.add(...src.issues);
    if (src.doc.errors.length > 0) continue;
    const top = validateAt(src, rulesTopSchema, src.data);
    if (!top.ok) {
      issues.add(...top.issues);
      continue;
    }
    top.value.rules.forEach((raw, index) => {
      const rawId = (raw as { id?: unknown } | null)?.id;
      let duplicate = false;
      if (typeof rawId === 'string') {
        const first = firstById.get(rawId);
        if (first) {
          issues.add(
            issueAt(src, ['rules', index, 'id'], `duplicate rule id "${rawId}" (first defined at ${formatPosition(first.src, ['rules', first.index, 'id'])})`),
          );
          duplicate = true;
        } else {
          firstById.set(rawId, { src, index });
        }
      }
      const result = validateAt(src, ruleSchema, raw, ['rules', index]);
      if (!result.ok) {
        issues.add(...result.issues);
        whenIssues(src, raw, index, issues);
        return;
      }
      // A duplicate is checked (schema, condition), then left out.
      if (duplicate) {
        whenIssues(src, raw, index, issues);
        return;
      }
      rules.push(toRuleConfig(result.value, file));
      where.push({ src, index });
    });
  }

  const compiled = compileRules(rules, uncategorized, hooks);
  for (const issue of compiled.issues) {
    const at = where[issue.index];
    if (!at) continue;
    issues.add(ruleIssueAt(at.src, ['rules', at.index, issue.field], issue.message));
  }
  for (const warning of compiled.warnings) {
    const at = where[warning.index];
    if (at) warnings.add(ruleIssueAt(at.src, ['rules', at.index, warning.field], warning.message));
  }
  return { rules, engine: compiled.engine };
}

/** A rule left out (broken or a duplicate) still has a mistake in its condition reported in this run. */
function whenIssues(src: YamlSource, raw: unknown, index: number, issues: IssueList): void {
  const when = (raw as { when?: unknown } | null)?.when;
  if (typeof when !== 'string' || when.trim() === '') return;
  const compiled = compileWhen(when);
  if (!compiled.ok) issues.add(ruleIssueAt(src, ['rules', index, 'when'], formatCelProblem(compiled.problem, when)));
}

// CEL problems come as "column 12: message" relative to the expression.
const CEL_COLUMN = /^column (\d+): /;

/**
 * Points a compile problem at its exact column when the expression is written on one line as is
 * (plain or quoted without escapes), so the admin sees the caret where the problem is.
 */
function ruleIssueAt(src: YamlSource, path: ConfigPath, message: string): ConfigIssue {
  const m = CEL_COLUMN.exec(message);
  const node = nodeAt(src, path);
  if (m && isScalar(node) && node.range && typeof node.value === 'string' && !node.value.includes('\n')) {
    const raw = src.text.slice(node.range[0], node.range[1]);
    const quote = raw === node.value ? 0 : raw === `"${node.value}"` || raw === `'${node.value}'` ? 1 : -1;
    if (quote >= 0) {
      const { line, col } = src.lineCounter.linePos(node.range[0] + quote + Number(m[1]) - 1);
      return { file: src.file, line, column: col, message: `${String(path[path.length - 1])}: ${message.slice(m[0].length)}` };
    }
  }
  return issueAt(src, path, `${String(path[path.length - 1])}: ${message}`);
}
