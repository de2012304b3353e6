// The secret that signs the session cookie: auth.session_secret, else INCIDENTD_SESSION_SECRET,
// else one generated at the first start and kept in a file beside the store, so a restart does not
// sign everybody out. Several instances behind one address must share it: set it in the config.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoreConfig } from '../config-core/types.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export const MIN_SESSION_SECRET = 32;

export class SessionSecretError extends IncidentdError {}

/** Where the generated secret is kept: beside the SQLite file, or data/ for MongoDB. */
export function sessionSecretFile(store: StoreConfig): string {
  return store.type === 'sqlite' ? `${store.path}-session-secret` : path.join('data', 'session-secret');
}

export async function sessionSecret(configured: string | null, env: NodeJS.ProcessEnv, store: StoreConfig, logger: Logger): Promise<string> {
  if (configured !== null) return configured;
  const fromEnv = env.INCIDENTD_SESSION_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_SESSION_SECRET) {
      throw new SessionSecretError(`INCIDENTD_SESSION_SECRET must be at least ${MIN_SESSION_SECRET} characters; unset it to have one generated`);
    }
    return fromEnv;
  }
  if (store.type === 'sqlite' && store.path === ':memory:') return randomBytes(48).toString('base64url');
  const file = sessionSecretFile(store);
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept.length >= MIN_SESSION_SECRET) return kept;
    throw new SessionSecretError(`${file} holds a session secret shorter than ${MIN_SESSION_SECRET} characters; delete the file to have a new one generated`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(48).toString('base64url');
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // wx: a second instance starting at the same moment keeps the first one's secret.
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw err;
  }
  logger.info({ file }, 'generated the secret that signs session cookies (set auth.session_secret to choose it)');
  return secret;
}
