// rules/tests/*.yaml: the rule unit test files (moved unchanged out of ./load.ts).
import path from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { ruleTestFileSchema, type RuleTestFile } from '../rules/rule-tests.js';
import { readYaml, validateAt } from '../config-core/yaml.js';
import { listYamlFiles, readText } from './files.js';
import { IssueList } from './issues.js';

/** Reads every rulesDir/tests/*.yaml rule test file; throws ConfigError listing every problem. */
export async function loadRuleTests(
  rulesDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ file: string; tests: RuleTestFile['tests'] }[]> {
  const issues = new IssueList();
  const out: { file: string; tests: RuleTestFile['tests'] }[] = [];
  const testFiles = await listYamlFiles(path.join(rulesDir, 'tests'), issues);
  for (const file of testFiles) {
    const text = await readText(file, issues);
    if (text === null) continue;
    const src = readYaml(file, text, env);
    issues.add(...src.issues);
    if (src.doc.errors.length > 0) continue;
    const result = validateAt(src, ruleTestFileSchema, src.data);
    if (!result.ok) issues.add(...result.issues);
    else if (src.issues.length === 0) out.push({ file, tests: result.value.tests });
  }
  if (issues.length > 0) throw new ConfigError(issues.sorted());
  return out;
}
