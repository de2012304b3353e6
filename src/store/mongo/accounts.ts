// Users, sessions and the audit log in MongoDB (UserStore, SessionStore, AuditLog): one document
// each, times as BSON dates. `nameKey` (the name in lower case) carries the unique index.
import type { Db } from 'mongodb';
import { MongoServerError } from 'mongodb';
import {
  nameKey,
  UserExistsError,
  UserNotFoundError,
  type AuditEntry,
  type AuditEventType,
  type SessionRecord,
  type User,
  type UserChange,
} from '../../domain/account.js';
import { decodeAuditCursor, encodeAuditCursor, pageFrom, pageSize, type Page } from '../../domain/paging.js';
import type { TenantScope, UserRole } from '../../domain/principal.js';
import { ACCOUNT_COLLECTIONS } from './schema.js';

export interface UserDoc {
  _id: string;
  name: string;
  nameKey: string;
  displayName: string;
  email: string;
  roles: UserRole[];
  tenants: TenantScope;
  passwordHash: string;
  disabled: boolean;
  createdAt: Date;
  lastSignInAt: Date | null;
  failedAttempts: number;
  failedSince: Date | null;
  lockedUntil: Date | null;
}

export interface SessionDoc {
  _id: string;
  userId: string;
  name: string;
  roles: UserRole[];
  tenants: TenantScope;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface AuditDoc {
  _id: string;
  at: Date;
  type: AuditEventType;
  actor: string;
  subject: string;
  address: string;
  detail: string;
}

const date = (n: number | null): Date | null => (n === null ? null : new Date(n));
const millis = (d: Date | null): number | null => (d === null ? null : d.getTime());

function scopeDoc(t: TenantScope): TenantScope {
  return t.all ? { all: true } : { all: false, tenants: [...t.tenants] };
}

function userFromDoc(d: UserDoc): User {
  return {
    id: d._id,
    name: d.name,
    displayName: d.displayName,
    email: d.email,
    roles: [...d.roles],
    tenants: scopeDoc(d.tenants),
    passwordHash: d.passwordHash,
    disabled: d.disabled,
    createdAt: d.createdAt.getTime(),
    lastSignInAt: millis(d.lastSignInAt),
    failedAttempts: d.failedAttempts,
    failedSince: millis(d.failedSince),
    lockedUntil: millis(d.lockedUntil),
  };
}

const users = (db: Db) => db.collection<UserDoc>(ACCOUNT_COLLECTIONS.users);
const sessions = (db: Db) => db.collection<SessionDoc>(ACCOUNT_COLLECTIONS.sessions);
const audit = (db: Db) => db.collection<AuditDoc>(ACCOUNT_COLLECTIONS.audit);

export async function insertUser(db: Db, u: User): Promise<void> {
  try {
    await users(db).insertOne({
      _id: u.id,
      name: u.name,
      nameKey: nameKey(u.name),
      displayName: u.displayName,
      email: u.email,
      roles: [...u.roles],
      tenants: scopeDoc(u.tenants),
      passwordHash: u.passwordHash,
      disabled: u.disabled,
      createdAt: new Date(u.createdAt),
      lastSignInAt: date(u.lastSignInAt),
      failedAttempts: u.failedAttempts,
      failedSince: date(u.failedSince),
      lockedUntil: date(u.lockedUntil),
    });
  } catch (err) {
    // Duplicate key: the unique name index (or the id) is taken.
    if (err instanceof MongoServerError && err.code === 11000) throw new UserExistsError(u.name);
    throw err;
  }
}

export async function findUserByName(db: Db, name: string): Promise<User | null> {
  const d = await users(db).findOne({ nameKey: nameKey(name) });
  return d ? userFromDoc(d) : null;
}

export async function findUser(db: Db, id: string): Promise<User | null> {
  const d = await users(db).findOne({ _id: id });
  return d ? userFromDoc(d) : null;
}

export async function findUsers(db: Db): Promise<User[]> {
  return (await users(db).find({}).sort({ nameKey: 1 }).toArray()).map(userFromDoc);
}

export async function changeUser(db: Db, id: string, change: UserChange): Promise<User> {
  const set: Partial<UserDoc> = {};
  if (change.displayName !== undefined) set.displayName = change.displayName;
  if (change.email !== undefined) set.email = change.email;
  if (change.roles !== undefined) set.roles = [...change.roles];
  if (change.tenants !== undefined) set.tenants = scopeDoc(change.tenants);
  if (change.passwordHash !== undefined) set.passwordHash = change.passwordHash;
  if (change.disabled !== undefined) set.disabled = change.disabled;
  if (change.lastSignInAt !== undefined) set.lastSignInAt = date(change.lastSignInAt);
  if (change.failedAttempts !== undefined) set.failedAttempts = change.failedAttempts;
  if (change.failedSince !== undefined) set.failedSince = date(change.failedSince);
  if (change.lockedUntil !== undefined) set.lockedUntil = date(change.lockedUntil);
  const d = await users(db).findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
  if (!d) throw new UserNotFoundError(id);
  return userFromDoc(d);
}

export async function insertSession(db: Db, s: SessionRecord): Promise<void> {
  await sessions(db).insertOne({
    _id: s.id,
    userId: s.userId,
    name: s.name,
    roles: [...s.roles],
    tenants: scopeDoc(s.tenants),
    csrfToken: s.csrfToken,
    createdAt: new Date(s.createdAt),
    lastSeenAt: new Date(s.lastSeenAt),
  });
}

export async function findSession(db: Db, id: string): Promise<SessionRecord | null> {
  const d = await sessions(db).findOne({ _id: id });
  if (!d) return null;
  return {
    id: d._id,
    userId: d.userId,
    name: d.name,
    roles: [...d.roles],
    tenants: scopeDoc(d.tenants),
    csrfToken: d.csrfToken,
    createdAt: d.createdAt.getTime(),
    lastSeenAt: d.lastSeenAt.getTime(),
  };
}

export async function touchSessionDoc(db: Db, id: string, at: number): Promise<boolean> {
  // $max: never backwards when two requests are answered out of order.
  const r = await sessions(db).updateOne({ _id: id }, { $max: { lastSeenAt: new Date(at) } });
  return r.matchedCount > 0;
}

export async function deleteSessionDoc(db: Db, id: string): Promise<void> {
  await sessions(db).deleteOne({ _id: id });
}

export async function deleteUserSessions(db: Db, userId: string): Promise<number> {
  return (await sessions(db).deleteMany({ userId })).deletedCount;
}

export async function deleteEndedSessionDocs(db: Db, lastSeenBefore: number, createdBefore: number): Promise<number> {
  const r = await sessions(db).deleteMany({ $or: [{ lastSeenAt: { $lte: new Date(lastSeenBefore) } }, { createdAt: { $lte: new Date(createdBefore) } }] });
  return r.deletedCount;
}

export async function insertAudit(db: Db, e: AuditEntry): Promise<void> {
  await audit(db).insertOne({ _id: e.id, at: new Date(e.at), type: e.type, actor: e.actor, subject: e.subject, address: e.address, detail: e.detail });
}

export async function findAudit(db: Db, limit: number, cursor: string | null | undefined): Promise<Page<AuditEntry>> {
  const size = pageSize(limit);
  let filter = {};
  if (cursor) {
    const c = decodeAuditCursor(cursor);
    filter = { $or: [{ at: { $lt: new Date(c.at) } }, { at: new Date(c.at), _id: { $lt: c.id } }] };
  }
  const docs = await audit(db).find(filter).sort({ at: -1, _id: -1 }).limit(size + 1).toArray();
  const entries = docs.map((d): AuditEntry => ({ id: d._id, at: d.at.getTime(), type: d.type, actor: d.actor, subject: d.subject, address: d.address, detail: d.detail }));
  return pageFrom(entries, size, (last) => encodeAuditCursor(last.at, last.id));
}
