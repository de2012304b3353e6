// Local accounts, browser sessions and the audit log of security events: the records the stores
// keep (UserStore, SessionStore, AuditLog in src/store/types.ts) and the pure decisions about them
// (expiry, lockout), so both stores apply the same rule.
import { IncidentdError } from '../shared/errors.js';
import type { Principal, TenantScope, UserRole } from './principal.js';

export interface User {
  id: string;
  /** Unique, compared case-insensitively; kept as first written. */
  name: string;
  displayName: string;
  email: string;
  roles: UserRole[];
  tenants: TenantScope;
  /** argon2id PHC string (src/shared/passwords.ts). */
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  lastSignInAt: number | null;
  /** Failed sign-ins in the current window (see signInFailure). */
  failedAttempts: number;
  /** When the first failure of the current window happened; null when there is none. */
  failedSince: number | null;
  /** Sign-in is refused until then; null when not locked. */
  lockedUntil: number | null;
}

/** What may change on an account after it is created. */
export type UserChange = Partial<
  Pick<User, 'displayName' | 'email' | 'roles' | 'tenants' | 'passwordHash' | 'disabled' | 'lastSignInAt' | 'failedAttempts' | 'failedSince' | 'lockedUntil'>
>;

/** The key two names collide on. */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

export class UserExistsError extends IncidentdError {
  constructor(readonly userName: string) {
    super(`a user named "${userName}" exists already (names are compared without case)`);
  }
}

export class UserNotFoundError extends IncidentdError {
  constructor(readonly userName: string) {
    super(`no user named "${userName}"; see \`incidentd users list\``);
  }
}

/**
 * A signed-in browser. `id` is the SHA-256 of the cookie's random value, so a copy of the
 * database does not hand out live sessions. The principal is kept as signed in (local accounts are
 * checked again on each request; an OIDC principal has no account here).
 */
export interface SessionRecord {
  id: string;
  userId: string;
  name: string;
  roles: UserRole[];
  tenants: TenantScope;
  /** The synchronizer token every cookie-authenticated write must send as `x-csrf-token`. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** Ends after this long without a request. */
  idleMs: number;
  /** Ends this long after sign-in, whatever happens. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 8 * 3_600_000, absoluteMs: 7 * 24 * 3_600_000 };

export function sessionExpired(s: SessionRecord, now: number, limits: SessionLimits): boolean {
  return now - s.lastSeenAt >= limits.idleMs || now - s.createdAt >= limits.absoluteMs;
}

export function principalOfSession(s: SessionRecord): Principal {
  return { kind: 'user', id: s.userId, name: s.name, roles: s.roles, tenants: s.tenants, sessionId: s.id };
}

/** Failures counted within `windowMs` lock the account for `lockMs` once they reach `maxFailures`. */
export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

export function isLocked(u: User, now: number): boolean {
  return u.lockedUntil !== null && u.lockedUntil > now;
}

/** The change a failed sign-in at `now` makes, and whether it locked the account. */
export function signInFailure(u: User, now: number, policy: LockoutPolicy): { change: UserChange; locked: boolean } {
  const inWindow = u.failedSince !== null && now - u.failedSince < policy.windowMs;
  const failedAttempts = (inWindow ? u.failedAttempts : 0) + 1;
  const failedSince = inWindow ? u.failedSince : now;
  if (failedAttempts >= policy.maxFailures) {
    return { change: { failedAttempts: 0, failedSince: null, lockedUntil: now + policy.lockMs }, locked: true };
  }
  return { change: { failedAttempts, failedSince }, locked: false };
}

export const AUDIT_EVENTS = [
  'sign-in',
  'sign-in-failed',
  'locked-out',
  'sign-out',
  'sign-in-sso',
  'user-added',
  'user-disabled',
  'user-enabled',
  'password-changed',
  'roles-changed',
  // API tokens live in the configuration: a reload that adds, removes or changes one records it.
  'token-added',
  'token-removed',
  'token-changed',
] as const;
export type AuditEventType = (typeof AUDIT_EVENTS)[number];

/** One security event. `actor` did it (a user, a token, `cli:<os user>`); `subject` is the account. */
export interface AuditEntry {
  id: string;
  at: number;
  type: AuditEventType;
  actor: string;
  subject: string;
  /** The client address for HTTP events, '' from the CLI. */
  address: string;
  detail: string;
}
