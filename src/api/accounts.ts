// Local accounts: adding and changing them (the `incidentd users` CLI) and checking a sign-in
// (POST /api/v1/session), each writing its audit entry. Lockout follows src/domain/account.ts.
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_LOCKOUT,
  isLocked,
  signInFailure,
  UserNotFoundError,
  type AuditEventType,
  type LockoutPolicy,
  type User,
} from '../domain/account.js';
import type { TenantScope, UserRole } from '../domain/principal.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import { checkPassword, hashPassword, verifyDummy, verifyPassword } from '../shared/passwords.js';
import type { AuditLog, SessionStore, UserStore } from '../store/types.js';
import { AuthFailureLimiter } from './auth-limiter.js';

export type AccountStore = UserStore & SessionStore & AuditLog;

/** The one answer to a wrong name or password, so it says nothing about which names exist. */
export const WRONG_CREDENTIALS = 'wrong user name or password';

export class SignInLockedError extends IncidentdError {
  constructor(
    readonly userName: string,
    readonly until: number,
  ) {
    super(
      `too many failed sign-ins; try again after ${hhmm(until)} UTC or ask an admin to unlock with \`incidentd users enable ${userName}\``,
    );
  }
}

function hhmm(at: number): string {
  return new Date(at).toISOString().slice(11, 16);
}

let auditSeq = 0;

/**
 * Audit ids sort in the order this process wrote them, also within one millisecond (the log is
 * listed by time, then id): the time, a counter, and a random part against other processes (the CLI).
 */
export function auditId(at: number): string {
  auditSeq = (auditSeq + 1) % 1e10;
  return `${at.toString(36).padStart(9, '0')}-${auditSeq.toString(36).padStart(7, '0')}-${randomUUID().slice(0, 8)}`;
}

export interface NewUser {
  name: string;
  displayName?: string;
  email?: string;
  roles: UserRole[];
  tenants: TenantScope;
  password: string;
}

export type SignInResult = { ok: true; user: User } | { ok: false; message: string; lockedUntil: number | null };

/** Who did it and from where, for the audit log. */
export interface Actor {
  name: string;
  address: string;
}

export class Accounts {
  private readonly lockout: LockoutPolicy;
  /**
   * Failures against names that have no account, locked like real ones, so a lockout does not
   * tell that a name exists. In memory: nothing is stored for names nobody has.
   */
  private readonly unknownNames: AuthFailureLimiter;

  constructor(
    private readonly store: AccountStore,
    private readonly clock: Clock,
    lockout: Partial<LockoutPolicy> = {},
  ) {
    this.lockout = { ...DEFAULT_LOCKOUT, ...lockout };
    this.unknownNames = new AuthFailureLimiter(clock, {
      maxFailures: this.lockout.maxFailures,
      windowMs: this.lockout.windowMs,
      blockMs: this.lockout.lockMs,
    });
  }

  async add(u: NewUser, actor: Actor): Promise<User> {
    checkPassword(u.password);
    const now = this.clock.now();
    const user: User = {
      id: randomUUID(),
      name: u.name,
      displayName: u.displayName ?? u.name,
      email: u.email ?? '',
      roles: [...u.roles],
      tenants: u.tenants,
      passwordHash: await hashPassword(u.password),
      disabled: false,
      createdAt: now,
      lastSignInAt: null,
      failedAttempts: 0,
      failedSince: null,
      lockedUntil: null,
    };
    await this.store.createUser(user);
    const tenants = u.tenants.all ? 'all tenants' : `tenants ${u.tenants.tenants.join(', ') || '(none)'}`;
    await this.audit('user-added', actor, user.name, `roles ${user.roles.join(', ')}; ${tenants}`);
    return user;
  }

  async setPassword(name: string, password: string, actor: Actor): Promise<User> {
    checkPassword(password);
    const user = await this.require(name);
    const changed = await this.store.updateUser(user.id, { passwordHash: await hashPassword(password) });
    // A new password ends the sessions the old one opened.
    const ended = await this.store.deleteSessionsForUser(user.id);
    await this.audit('password-changed', actor, user.name, `${ended} session(s) ended`);
    return changed;
  }

  async disable(name: string, actor: Actor): Promise<User> {
    const user = await this.require(name);
    const changed = await this.store.updateUser(user.id, { disabled: true });
    const ended = await this.store.deleteSessionsForUser(user.id);
    await this.audit('user-disabled', actor, user.name, `${ended} session(s) ended`);
    return changed;
  }

  /** Enables the account and lifts a lockout. */
  async enable(name: string, actor: Actor): Promise<User> {
    const user = await this.require(name);
    const changed = await this.store.updateUser(user.id, { disabled: false, lockedUntil: null, failedAttempts: 0, failedSince: null });
    const was = user.disabled ? 'was disabled' : isLocked(user, this.clock.now()) ? 'was locked out' : 'was enabled already';
    await this.audit('user-enabled', actor, user.name, was);
    return changed;
  }

  async setRoles(name: string, roles: UserRole[], tenants: TenantScope, actor: Actor): Promise<User> {
    const user = await this.require(name);
    const changed = await this.store.updateUser(user.id, { roles: [...roles], tenants });
    const ended = await this.store.deleteSessionsForUser(user.id);
    const scope = tenants.all ? 'all tenants' : `tenants ${tenants.tenants.join(', ') || '(none)'}`;
    await this.audit('roles-changed', actor, user.name, `roles ${roles.join(', ')}; ${scope}; ${ended} session(s) ended`);
    return changed;
  }

  list(): Promise<User[]> {
    return this.store.listUsers();
  }

  /**
   * Checks a name and password. A name without an account, a disabled account and a wrong
   * password get the same answer after the same work (one argon2 verification).
   */
  async signIn(name: string, password: string, address: string): Promise<SignInResult> {
    const now = this.clock.now();
    const actor = { name, address };
    const user = await this.store.getUserByName(name);
    if (user === null) {
      await verifyDummy(password);
      const blocked = this.unknownNames.check(name.toLowerCase());
      if (blocked.blocked) return this.lockedAnswer(name, now + blocked.retryAfterS * 1000);
      const locked = this.unknownNames.fail(name.toLowerCase());
      await this.audit('sign-in-failed', actor, name, 'no such user');
      if (locked) return this.lockedAnswer(name, now + this.lockout.lockMs);
      return { ok: false, message: WRONG_CREDENTIALS, lockedUntil: null };
    }
    if (isLocked(user, now)) {
      await verifyDummy(password);
      await this.audit('sign-in-failed', actor, user.name, 'locked out');
      return this.lockedAnswer(name, user.lockedUntil!);
    }
    const matches = await verifyPassword(user.passwordHash, password);
    if (matches && !user.disabled) {
      const signedIn = await this.store.updateUser(user.id, { lastSignInAt: now, failedAttempts: 0, failedSince: null, lockedUntil: null });
      await this.audit('sign-in', actor, user.name, '');
      return { ok: true, user: signedIn };
    }
    if (user.disabled) {
      await this.audit('sign-in-failed', actor, user.name, matches ? 'account disabled' : 'account disabled; wrong password');
      return { ok: false, message: WRONG_CREDENTIALS, lockedUntil: null };
    }
    const failure = signInFailure(user, now, this.lockout);
    const changed = await this.store.updateUser(user.id, failure.change);
    await this.audit('sign-in-failed', actor, user.name, 'wrong password');
    if (failure.locked) {
      await this.audit('locked-out', actor, user.name, `${this.lockout.maxFailures} failed sign-ins; locked until ${new Date(changed.lockedUntil!).toISOString()}`);
      return this.lockedAnswer(name, changed.lockedUntil!);
    }
    return { ok: false, message: WRONG_CREDENTIALS, lockedUntil: null };
  }

  async audit(type: AuditEventType, actor: Actor, subject: string, detail: string): Promise<void> {
    const at = this.clock.now();
    await this.store.appendAudit({ id: auditId(at), at, type, actor: actor.name, subject, address: actor.address, detail });
  }

  private lockedAnswer(name: string, until: number): SignInResult {
    return { ok: false, message: new SignInLockedError(name, until).message, lockedUntil: until };
  }

  private async require(name: string): Promise<User> {
    const user = await this.store.getUserByName(name);
    if (!user) throw new UserNotFoundError(name);
    return user;
  }
}
