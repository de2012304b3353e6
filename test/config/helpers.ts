import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ConfigPaths, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const REPO = path.resolve(FIXTURES, '../../..');

/** Paths of a fixture case; parts the case does not have come from the valid `ok` case. */
export function fixturePaths(name: string): ConfigPaths {
  const pick = (p: string) => (existsSync(path.join(FIXTURES, name, p)) ? path.join(FIXTURES, name, p) : path.join(FIXTURES, 'ok', p));
  return { config: pick('incidentd.yaml'), probesDir: pick('probes'), rulesDir: pick('rules') };
}

/** Loads a fixture case that must fail; returns its issues as `file:line:column: message` lines relative to fixtures/. */
export async function issueLines(name: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(fixturePaths(name), env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => formatIssue(i).split(`${FIXTURES}${path.sep}`).join(''));
  }
  throw new Error(`fixture ${name} loaded without errors (${loaded.targets.length} targets)`);
}

/** A billion laughs: nine levels of nine aliases each, about 387 million strings when expanded. */
export function aliasBomb(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  let prev = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${prev}`).join(', ')}]`);
    prev = name;
  }
  lines.push('targets: *i');
  return `${lines.join('\n')}\n`;
}
