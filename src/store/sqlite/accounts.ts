// Users, sessions and the audit log in SQLite (UserStore, SessionStore, AuditLog). Roles and tenant
// scopes are JSON; times are epoch milliseconds.
import type { Database } from 'better-sqlite3';
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

interface UserRow {
  id: string;
  name: string;
  name_key: string;
  display_name: string;
  email: string;
  roles: string;
  tenants: string;
  password_hash: string;
  disabled: number;
  created_at: number;
  last_sign_in_at: number | null;
  failed_attempts: number;
  failed_since: number | null;
  locked_until: number | null;
}

function userFromRow(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    email: r.email,
    roles: JSON.parse(r.roles) as UserRole[],
    tenants: JSON.parse(r.tenants) as TenantScope,
    passwordHash: r.password_hash,
    disabled: r.disabled === 1,
    createdAt: r.created_at,
    lastSignInAt: r.last_sign_in_at,
    failedAttempts: r.failed_attempts,
    failedSince: r.failed_since,
    lockedUntil: r.locked_until,
  };
}

function userToRow(u: User): UserRow {
  return {
    id: u.id,
    name: u.name,
    name_key: nameKey(u.name),
    display_name: u.displayName,
    email: u.email,
    roles: JSON.stringify(u.roles),
    tenants: JSON.stringify(u.tenants),
    password_hash: u.passwordHash,
    disabled: u.disabled ? 1 : 0,
    created_at: u.createdAt,
    last_sign_in_at: u.lastSignInAt,
    failed_attempts: u.failedAttempts,
    failed_since: u.failedSince,
    locked_until: u.lockedUntil,
  };
}

const USER_COLUMNS =
  'id, name, name_key, display_name, email, roles, tenants, password_hash, disabled, created_at, last_sign_in_at, failed_attempts, failed_since, locked_until';

export function insertUser(db: Database, u: User): void {
  const row = userToRow(u);
  const taken = db.prepare('SELECT 1 FROM users WHERE name_key = ? OR id = ?').get(row.name_key, row.id);
  if (taken) throw new UserExistsError(u.name);
  db.prepare(`INSERT INTO users (${USER_COLUMNS}) VALUES (${USER_COLUMNS.split(', ').map((c) => `@${c}`).join(', ')})`).run(row);
}

export function selectUserByName(db: Database, name: string): User | null {
  const row = db.prepare('SELECT * FROM users WHERE name_key = ?').get(nameKey(name)) as UserRow | undefined;
  return row ? userFromRow(row) : null;
}

export function selectUser(db: Database, id: string): User | null {
  const row = db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
  return row ? userFromRow(row) : null;
}

export function selectUsers(db: Database): User[] {
  return (db.prepare('SELECT * FROM users ORDER BY name_key').all() as UserRow[]).map(userFromRow);
}

/** Runs inside the caller's transaction. */
export function changeUser(db: Database, id: string, change: UserChange): User {
  const current = selectUser(db, id);
  if (!current) throw new UserNotFoundError(id);
  const next: User = { ...current };
  for (const [k, v] of Object.entries(change) as [keyof UserChange, unknown][]) {
    if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  }
  const row = userToRow(next);
  const sets = USER_COLUMNS.split(', ')
    .filter((c) => c !== 'id' && c !== 'name' && c !== 'name_key' && c !== 'created_at')
    .map((c) => `${c} = @${c}`)
    .join(', ');
  db.prepare(`UPDATE users SET ${sets} WHERE id = @id`).run(row);
  return next;
}

interface SessionRow {
  id: string;
  user_id: string;
  name: string;
  roles: string;
  tenants: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
}

export function insertSession(db: Database, s: SessionRecord): void {
  db.prepare(
    `INSERT INTO sessions (id, user_id, name, roles, tenants, csrf_token, created_at, last_seen_at)
     VALUES (@id, @user_id, @name, @roles, @tenants, @csrf_token, @created_at, @last_seen_at)`,
  ).run({
    id: s.id,
    user_id: s.userId,
    name: s.name,
    roles: JSON.stringify(s.roles),
    tenants: JSON.stringify(s.tenants),
    csrf_token: s.csrfToken,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
  });
}

export function selectSession(db: Database, id: string): SessionRecord | null {
  const r = db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
  if (!r) return null;
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    roles: JSON.parse(r.roles) as UserRole[],
    tenants: JSON.parse(r.tenants) as TenantScope,
    csrfToken: r.csrf_token,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

export function touchSessionRow(db: Database, id: string, at: number): boolean {
  // Never backwards: two requests answered out of order keep the later time.
  const r = db.prepare('UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?').run(at, id);
  return r.changes > 0;
}

export function deleteSessionRow(db: Database, id: string): void {
  db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
}

export function deleteUserSessions(db: Database, userId: string): number {
  return db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes;
}

export function deleteEndedSessionRows(db: Database, lastSeenBefore: number, createdBefore: number): number {
  return db.prepare('DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?').run(lastSeenBefore, createdBefore).changes;
}

interface AuditRow {
  id: string;
  at: number;
  type: string;
  actor: string;
  subject: string;
  address: string;
  detail: string;
}

export function insertAudit(db: Database, e: AuditEntry): void {
  db.prepare(
    'INSERT INTO audit (id, at, type, actor, subject, address, detail) VALUES (@id, @at, @type, @actor, @subject, @address, @detail)',
  ).run({ ...e });
}

export function selectAudit(db: Database, limit: number, cursor: string | null | undefined): Page<AuditEntry> {
  const size = pageSize(limit);
  let where = '';
  const params: unknown[] = [];
  if (cursor) {
    const c = decodeAuditCursor(cursor);
    where = 'WHERE at < ? OR (at = ? AND id < ?)';
    params.push(c.at, c.at, c.id);
  }
  params.push(size + 1);
  const rows = db.prepare(`SELECT * FROM audit ${where} ORDER BY at DESC, id DESC LIMIT ?`).all(...params) as AuditRow[];
  const entries = rows.map((r): AuditEntry => ({ ...r, type: r.type as AuditEventType }));
  return pageFrom(entries, size, (last) => encodeAuditCursor(last.at, last.id));
}
