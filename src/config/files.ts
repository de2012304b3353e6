// Reading configuration files and folders: size limit, missing files and folders, symbolic link
// loops and dangling links, each reported as an issue at line 1 of the file or folder.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { DEFAULT_MAX_FILE_BYTES } from '../config-core/schemas.js';
import type { IssueList } from './issues.js';

export async function readText(file: string, issues: IssueList, maxBytes: number = DEFAULT_MAX_FILE_BYTES): Promise<string | null> {
  issues.file(file);
  try {
    // Checked before reading: a file far too large is refused without holding it in memory.
    const { size } = await stat(file);
    if (size > maxBytes) {
      issues.add({
        file,
        line: 1,
        column: 1,
        message: `file is ${megabytes(size)}, larger than config.max_file_bytes (${megabytes(maxBytes)}); split it into several files or raise the limit`,
      });
      return null;
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file does not exist (create it, or pass the right path)' : `cannot read file: ${(err as Error).message}`;
    issues.add({ file, line: 1, column: 1, message: why });
    return null;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Every *.yaml / *.yml file directly in `dir`, sorted by name. A missing directory is an issue. */
export async function listYamlFiles(dir: string, issues?: IssueList): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'directory does not exist (create it, or pass the right path)' : `cannot read directory: ${(err as Error).message}`;
    if (!issues) throw new ConfigError([{ file: dir, line: 1, column: 1, message }]);
    issues.add({ file: dir, line: 1, column: 1, message });
    return [];
  }
  const out: string[] = [];
  for (const name of names.filter((n) => /\.ya?ml$/i.test(n)).sort()) {
    const file = path.join(dir, name);
    let isFile: boolean;
    try {
      isFile = (await stat(file)).isFile();
    } catch (err) {
      const message = await unreadableEntryMessage(file, err as NodeJS.ErrnoException);
      if (!issues) throw new ConfigError([{ file, line: 1, column: 1, message }]);
      issues.add({ file, line: 1, column: 1, message });
      continue;
    }
    if (isFile) out.push(file);
  }
  return out;
}

/** Why a directory entry cannot be read, in words: symbolic link loops and dangling links say so. */
async function unreadableEntryMessage(file: string, err: NodeJS.ErrnoException): Promise<string> {
  if (err.code === 'ELOOP') return 'symbolic link loop: the link leads back to itself; remove it or point it at a file';
  if (err.code === 'ENOENT') {
    try {
      const target = path.resolve(path.dirname(file), await readlink(file));
      return `dangling symbolic link: it points at ${target}, which does not exist; remove it or create the file`;
    } catch {
      return 'file disappeared while the folder was read; run again';
    }
  }
  return `cannot read file: ${err.message}`;
}
