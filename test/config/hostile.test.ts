// Issue 12, finding 12: hostile or broken files in the config folders (a YAML alias bomb, a
// symbolic link loop, a dangling symbolic link, nesting deep enough to exhaust the stack) are
// configuration errors naming the file, like every other problem, never a crash with a stack.
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigPaths } from '../../src/config/load.js';
import { ConfigError } from '../../src/shared/errors.js';
import { aliasBomb, FIXTURES } from './helpers.js';

let dir: string;
let paths: ConfigPaths;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incidentd-hostile-'));
  cpSync(path.join(FIXTURES, 'ok'), dir, { recursive: true });
  paths = { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function issuesOf(): Promise<string[]> {
  try {
    await loadConfig(paths, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`);
  }
  throw new Error('the configuration loaded');
}

describe('hostile config files', () => {
  it('an alias bomb is a ConfigError at the file, not a ReferenceError', async () => {
    const file = path.join(dir, 'probes', 'bomb.yaml');
    writeFileSync(file, aliasBomb());
    const issues = await issuesOf();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^${file}:\\d+:\\d+: .*alias`));
  });

  it('a symbolic link loop in probes/ is a ConfigError naming the link', async () => {
    const file = path.join(dir, 'probes', 'loop.yaml');
    symlinkSync(file, file);
    const issues = await issuesOf();
    expect(issues).toEqual([`${file}:1:1: symbolic link loop: the link leads back to itself; remove it or point it at a file`]);
  });

  it('a dangling symbolic link in rules/ is a ConfigError naming the link and its target', async () => {
    const file = path.join(dir, 'rules', 'gone.yaml');
    symlinkSync(path.join(dir, 'nowhere.yaml'), file);
    const issues = await issuesOf();
    expect(issues).toEqual([
      `${file}:1:1: dangling symbolic link: it points at ${path.join(dir, 'nowhere.yaml')}, which does not exist; remove it or create the file`,
    ]);
  });

  it('nesting deep enough to exhaust the stack is a ConfigError at the file', async () => {
    const file = path.join(dir, 'probes', 'deep.yaml');
    const depth = 20_000;
    writeFileSync(file, `targets: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    const issues = await issuesOf();
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.startsWith(`${file}:`))).toBe(true);
  });
});
