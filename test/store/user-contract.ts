// The accounts part of the store contract (UserStore, SessionStore, AuditLog in src/store/types.ts).
// Each store's test file calls `userContract(name, makeStore)` next to `storeContract`.
import { describe, expect, it } from 'vitest';
import { UserExistsError, UserNotFoundError, type AuditEntry, type SessionRecord, type User } from '../../src/domain/account.js';
import { InvalidCursorError } from '../../src/shared/errors.js';
import type { IncidentStore } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const MINUTE = 60_000;

function user(id: string, name: string, more: Partial<User> = {}): User {
  return {
    id,
    name,
    displayName: `${name} (display)`,
    email: `${name.toLowerCase()}@example.invalid`,
    roles: ['agent'],
    tenants: { all: false, tenants: ['acme', 'globex'] },
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    disabled: false,
    createdAt: T0,
    lastSignInAt: null,
    failedAttempts: 0,
    failedSince: null,
    lockedUntil: null,
    ...more,
  };
}

function session(id: string, userId: string, more: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    userId,
    name: 'alice',
    roles: ['agent', 'manager'],
    tenants: { all: true },
    csrfToken: `csrf-${id}`,
    createdAt: T0,
    lastSeenAt: T0,
    ...more,
  };
}

function entry(id: string, at: number, more: Partial<AuditEntry> = {}): AuditEntry {
  return { id, at, type: 'sign-in', actor: 'alice', subject: 'alice', address: '192.0.2.7', detail: '', ...more };
}

export function userContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`UserStore, SessionStore, AuditLog contract: ${name}`, () => {
    let h: StoreHarness;
    let store: IncidentStore;
    storeEachTest(makeStore, (opened) => {
      h = opened;
      store = opened.store;
    });

    it('creates a user and reads it back by id and by name in any case', async () => {
      const alice = user('u1', 'Alice');
      await store.createUser(alice);
      expect(await store.getUser('u1')).toEqual(alice);
      expect(await store.getUserByName('alice')).toEqual(alice);
      expect(await store.getUserByName('ALICE')).toEqual(alice);
      expect(await store.getUserByName('bob')).toBeNull();
      expect(await store.getUser('nope')).toBeNull();
    });

    it('refuses a second user whose name differs only in case', async () => {
      await store.createUser(user('u1', 'Alice'));
      const err = await store.createUser(user('u2', 'aLiCe')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserExistsError);
      expect((err as Error).message).toMatch(/"aLiCe" exists already/);
      expect(await store.listUsers()).toHaveLength(1);
    });

    it('lists users by name without regard to case', async () => {
      await store.createUser(user('u1', 'carol'));
      await store.createUser(user('u2', 'Alice', { roles: ['admin'], tenants: { all: true } }));
      await store.createUser(user('u3', 'bob'));
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['Alice', 'bob', 'carol']);
    });

    it('changes the password hash, disabled flag, roles, tenants and lockout fields, and keeps them across a restart', async () => {
      await store.createUser(user('u1', 'alice'));
      const changed = await store.updateUser('u1', {
        passwordHash: '$argon2id$new',
        disabled: true,
        roles: ['engineer', 'admin'],
        tenants: { all: true },
        failedAttempts: 3,
        failedSince: T0 + MINUTE,
        lockedUntil: T0 + 15 * MINUTE,
        lastSignInAt: T0 + 2 * MINUTE,
      });
      expect(changed).toMatchObject({ name: 'alice', passwordHash: '$argon2id$new', disabled: true, roles: ['engineer', 'admin'] });
      const again = await h.reopen();
      expect(await again.getUserByName('alice')).toEqual(changed);
      // Fields left out stay as they were; null clears.
      const cleared = await again.updateUser('u1', { lockedUntil: null, failedSince: null, failedAttempts: 0 });
      expect(cleared).toEqual({ ...changed, lockedUntil: null, failedSince: null, failedAttempts: 0 });
    });

    it('refuses to change a user that does not exist', async () => {
      await expect(store.updateUser('ghost', { disabled: true })).rejects.toBeInstanceOf(UserNotFoundError);
    });

    it('sees a user created by another instance', async () => {
      const other = await h.another();
      await other.createUser(user('u1', 'alice'));
      expect((await store.getUserByName('Alice'))?.id).toBe('u1');
    });

    it('keeps sessions: create, get, touch never backwards, delete, delete all of a user', async () => {
      await store.createSession(session('s1', 'u1'));
      await store.createSession(session('s2', 'u1'));
      await store.createSession(session('s3', 'u2', { name: 'bob', tenants: { all: false, tenants: ['acme'] } }));
      expect(await store.getSession('s1')).toEqual(session('s1', 'u1'));
      expect(await store.getSession('s3')).toEqual(session('s3', 'u2', { name: 'bob', tenants: { all: false, tenants: ['acme'] } }));

      expect(await store.touchSession('s1', T0 + 10 * MINUTE)).toBe(true);
      expect(await store.touchSession('s1', T0 + 5 * MINUTE)).toBe(true);
      expect((await store.getSession('s1'))?.lastSeenAt).toBe(T0 + 10 * MINUTE);
      expect(await store.touchSession('missing', T0)).toBe(false);

      await store.deleteSession('s2');
      expect(await store.getSession('s2')).toBeNull();
      expect(await store.deleteSessionsForUser('u1')).toBe(1);
      expect(await store.getSession('s1')).toBeNull();
      expect(await store.getSession('s3')).not.toBeNull();
    });

    it('sweeps the sessions that ended: idle since the cut-off, or created before the other', async () => {
      await store.createSession(session('idle', 'u1'));
      await store.createSession(session('fresh', 'u1', { createdAt: T0 + 20 * MINUTE, lastSeenAt: T0 + 20 * MINUTE }));
      await store.createSession(session('old', 'u2'));
      await store.touchSession('old', T0 + 30 * MINUTE);
      // 'old' is as recent as 'fresh' but was created at T0: the absolute cut-off takes it.
      expect(await store.deleteEndedSessions(T0 + 10 * MINUTE, T0)).toBe(2);
      expect(await store.getSession('idle')).toBeNull();
      expect(await store.getSession('old')).toBeNull();
      expect(await store.getSession('fresh')).not.toBeNull();
      expect(await store.deleteEndedSessions(T0 + 10 * MINUTE, T0)).toBe(0);
    });

    it('lists the audit log newest first, page by page, ties by id', async () => {
      for (let i = 0; i < 5; i++) await store.appendAudit(entry(`e${i}`, T0 + i * MINUTE, { type: 'sign-in-failed', detail: `#${i}` }));
      await store.appendAudit(entry('e9', T0 + 4 * MINUTE, { type: 'user-added', actor: 'cli:root', address: '' }));
      const first = await store.listAudit(4);
      expect(first.items.map((e) => e.id)).toEqual(['e9', 'e4', 'e3', 'e2']);
      expect(first.items[0]).toEqual(entry('e9', T0 + 4 * MINUTE, { type: 'user-added', actor: 'cli:root', address: '' }));
      expect(first.next).not.toBeNull();
      const second = await store.listAudit(4, first.next);
      expect(second.items.map((e) => e.id)).toEqual(['e1', 'e0']);
      expect(second.next).toBeNull();
    });

    it('refuses an audit cursor it did not hand out', async () => {
      await expect(store.listAudit(10, 'bm90LWEtY3Vyc29y')).rejects.toBeInstanceOf(InvalidCursorError);
    });
  });
}
