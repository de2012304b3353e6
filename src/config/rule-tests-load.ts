// rules/tests/*.yaml: the rule unit test files, read by src/rules/rule-test-files.ts.
import { ConfigError } from '../shared/errors.js';
import { readRuleTestFiles, type RuleTestFileContent } from '../rules/rule-test-files.js';

/** Reads every rulesDir/tests/*.yaml rule test file; throws ConfigError listing every problem. */
export async function loadRuleTests(rulesDir: string, env: NodeJS.ProcessEnv = process.env): Promise<RuleTestFileContent[]> {
  const result = await readRuleTestFiles(rulesDir, { env, ruleIds: null });
  if (result.issues.length > 0) throw new ConfigError(result.issues);
  return result.files;
}
