// Password hashing for local accounts: argon2id with OWASP's recommended parameters (19 MiB,
// 2 iterations, 1 lane; OWASP Password Storage Cheat Sheet), stored as a PHC string, so the
// parameters can be raised later without breaking existing hashes.
import type * as Argon2 from '@node-rs/argon2';
import { IncidentdError } from './errors.js';

// Algorithm is a const enum in @node-rs/argon2's types, which isolated modules cannot inline;
// 2 is its Argon2id (also the library's default).
const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

/** The native addon, loaded at the first hash or sign-in: the daemon's start-up does not wait for it. */
let argon2: Promise<typeof Argon2> | undefined;
const loadArgon2 = (): Promise<typeof Argon2> => (argon2 ??= import('@node-rs/argon2'));

export class WeakPasswordError extends IncidentdError {}

/** Refuses a password shorter than MIN_PASSWORD_LENGTH characters (code points). */
export function checkPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new WeakPasswordError(`the password is shorter than ${MIN_PASSWORD_LENGTH} characters; choose a longer one`);
  }
}

export async function hashPassword(password: string): Promise<string> {
  const { hash } = await loadArgon2();
  return hash(password, OPTIONS);
}

/** False for a wrong password and for a hash that is not argon2 at all. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  const { verify } = await loadArgon2();
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;

/**
 * Verifies against a throw-away hash, so a sign-in for an unknown name costs the same time as one
 * with a wrong password and says nothing about which names exist.
 */
export async function verifyDummy(password: string): Promise<void> {
  dummy ??= hashPassword('incidentd-dummy-password-never-matches');
  await verifyPassword(await dummy, password);
}
