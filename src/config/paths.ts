// Files and folders config/incidentd.yaml names, checked at load time (so `incidentd validate`
// catches what would otherwise fail the start): a channel's templates_dir and CA file, the SQLite
// file's folder, the intake journal's folder. One rule resolves them all: a relative path is
// relative to the folder of the file that names it.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq } from 'yaml';
import type { ConfigIssue } from '../shared/errors.js';
import { issueAt, nodeAt, type ConfigPath, type YamlSource } from '../config-core/yaml.js';
import { resolveChannelFiles } from '../notify/registry.js';
import type { DaemonFile } from './schemas.js';

/** A path as written in `file`, made absolute by the one rule: relative to that file's folder. */
export function resolveFrom(file: string, written: string): string {
  return path.resolve(path.dirname(path.resolve(file)), written);
}

/** What the daemon does with a named path, which decides what must be true of it now. */
type Use =
  | 'read-file' // read at start (a CA file)
  | 'read-dir' // a folder read at start (templates)
  | 'create-file' // a file the daemon creates or opens for writing, with its folders (the SQLite file)
  | 'create-dir'; // a folder the daemon creates or writes in (the intake journal)

interface NamedPath {
  at: ConfigPath;
  written: string;
  use: Use;
}

/** Every path the parsed daemon file names, with where it is written and how it is used. */
function namedPaths(src: YamlSource, f: DaemonFile, channelIndex: readonly number[], env: NodeJS.ProcessEnv): NamedPath[] {
  const out: NamedPath[] = [];
  // MONGODB_URI selects MongoDB even when the file names SQLite (src/app/store-open.ts): the file is not used.
  if (f.store.type === 'sqlite' && !env.MONGODB_URI?.trim() && nodeAt(src, ['store', 'path']) !== undefined) {
    out.push({ at: ['store', 'path'], written: f.store.path, use: 'create-file' });
  }
  if (f.ingest.journalDir !== null) out.push({ at: ['ingest', 'journal_dir'], written: f.ingest.journalDir, use: 'create-dir' });
  // Each channel kind says which of its fields are files (its resolveFiles); where each is written
  // is found by its value in the channel's YAML, and a key ending in _dir names a folder.
  f.channels.forEach((c, i) => {
    const base: ConfigPath = ['channels', channelIndex[i] ?? i];
    const names: string[] = [];
    resolveChannelFiles(c, (file) => {
      names.push(file);
      return file;
    });
    for (const written of names) {
      const at = findScalar(nodeAt(src, base), written, base) ?? base;
      const key = at[at.length - 1];
      out.push({ at, written, use: typeof key === 'string' && key.endsWith('_dir') ? 'read-dir' : 'read-file' });
    }
  });
  return out;
}

/** The path of the first scalar under `node` (at `base`) whose value is `value`, or null. */
function findScalar(node: unknown, value: string, base: ConfigPath): ConfigPath | null {
  if (isScalar(node)) return node.value === value ? base : null;
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const found = findScalar(pair.value, value, [...base, String(pair.key.value)]);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const found = findScalar(node.items[i], value, [...base, i]);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Problems with the paths the daemon file names, each at the value that names it. `channelIndex`
 * maps each parsed channel to its entry in the file (broken entries are left out of the parse).
 */
export async function pathIssues(
  src: YamlSource,
  f: DaemonFile,
  channelIndex: readonly number[],
  env: NodeJS.ProcessEnv,
): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  for (const named of namedPaths(src, f, channelIndex, env)) {
    const full = resolveFrom(src.file, named.written);
    const problem = await pathProblem(full, named.use);
    if (!problem) continue;
    const hint = path.isAbsolute(named.written) ? '' : ` (${named.written} is relative to the folder of ${path.basename(src.file)})`;
    issues.push(issueAt(src, named.at, `${problem}${hint}`));
  }
  return issues;
}

/** What is wrong with `file` for its use, in words naming it; null when nothing is. */
async function pathProblem(file: string, use: Use): Promise<string | null> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    if (info.code !== 'ENOENT' && info.code !== 'ENOTDIR') return `cannot read ${file}: ${info.message}`;
    if (use === 'read-file') return `file not found: ${file}`;
    if (use === 'read-dir') return `folder not found: ${file}`;
    // Created at start with its missing folders: the nearest folder that exists must take them.
    return creatableProblem(file, use === 'create-file' ? path.dirname(file) : file);
  }
  switch (use) {
    case 'read-file':
      if (!info.isFile()) return `not a file: ${file}`;
      return (await canAccess(file, constants.R_OK)) ? null : `cannot read ${file} (permission denied)`;
    case 'read-dir':
      if (!info.isDirectory()) return `not a folder: ${file}`;
      return (await canAccess(file, constants.R_OK | constants.X_OK)) ? null : `cannot read the folder ${file} (permission denied)`;
    case 'create-file':
      if (info.isDirectory()) return `${file} is a folder; name a file in it`;
      return (await canAccess(file, constants.R_OK | constants.W_OK)) ? null : `cannot write ${file} (permission denied)`;
    case 'create-dir':
      if (!info.isDirectory()) return `not a folder: ${file}`;
      return (await canAccess(file, constants.W_OK | constants.X_OK)) ? null : `cannot write in the folder ${file} (permission denied)`;
  }
}

/** Whether the daemon can create the folder `dir` (and its parents) for `file`; null when it can. */
async function creatableProblem(file: string, dir: string): Promise<string | null> {
  let at = dir;
  for (;;) {
    const info = await stat(at).catch(() => null);
    if (info) {
      if (!info.isDirectory()) return `cannot create ${file}: ${at} is not a folder`;
      return (await canAccess(at, constants.W_OK | constants.X_OK)) ? null : `cannot create ${file}: the folder ${at} is not writable (permission denied)`;
    }
    const parent = path.dirname(at);
    if (parent === at) return `cannot create ${file}: no part of its path exists`;
    at = parent;
  }
}

async function canAccess(file: string, mode: number): Promise<boolean> {
  try {
    await access(file, mode);
    return true;
  } catch {
    return false;
  }
}
