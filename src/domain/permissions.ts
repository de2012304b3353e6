// Who may do what: one table, action → the user roles and the token roles allowed. Every route of
// the HTTP API names its action (src/api/auth.ts refuses to register one that does not), so this
// table is the whole access policy; tenant scoping of the data comes on top of it.
import type { Principal, TokenRole, UserRole } from './principal.js';

interface Allowed {
  users: readonly UserRole[];
  tokens: readonly TokenRole[];
}

// Users: reporter files and follows his own reports; agent (L1) reads and handles incidents;
// engineer (L2/L3) also escalates, changes severity and silences; manager reads everything, changes
// nothing; admin does everything. Tokens: read reads, ingest sends alerts, write reads and acts on
// incidents and silences (what every token could do before roles), admin does everything.
//
//  action                     user roles                                            token roles
export const PERMISSIONS = {
  'status.read':             { users: ['reporter', 'agent', 'engineer', 'manager', 'admin'], tokens: ['read', 'write', 'admin'] },
  'reports.own':             { users: ['reporter', 'agent', 'engineer', 'manager', 'admin'], tokens: ['admin'] },
  'reports.read':            { users: ['agent', 'engineer', 'manager', 'admin'],             tokens: ['read', 'write', 'admin'] },
  'incidents.read':          { users: ['agent', 'engineer', 'manager', 'admin'],             tokens: ['read', 'write', 'admin'] },
  'incidents.acknowledge':   { users: ['agent', 'engineer', 'admin'],                        tokens: ['write', 'admin'] },
  'incidents.comment':       { users: ['agent', 'engineer', 'admin'],                        tokens: ['write', 'admin'] },
  'incidents.resolve':       { users: ['agent', 'engineer', 'admin'],                        tokens: ['write', 'admin'] },
  'incidents.subscribe':     { users: ['agent', 'engineer', 'admin'],                        tokens: ['write', 'admin'] },
  'incidents.reopen':        { users: ['engineer', 'admin'],                                 tokens: ['write', 'admin'] },
  'incidents.escalate':      { users: ['engineer', 'admin'],                                 tokens: ['write', 'admin'] },
  'incidents.change-severity': { users: ['engineer', 'admin'],                               tokens: ['write', 'admin'] },
  'checks.read':             { users: ['agent', 'engineer', 'manager', 'admin'],             tokens: ['read', 'write', 'admin'] },
  'silences.read':           { users: ['agent', 'engineer', 'manager', 'admin'],             tokens: ['read', 'write', 'admin'] },
  'silences.write':          { users: ['engineer', 'admin'],                                 tokens: ['write', 'admin'] },
  'notifications.read':      { users: ['agent', 'engineer', 'manager', 'admin'],             tokens: ['read', 'write', 'admin'] },
  // Alert endpoints take their sources' tokens (src/sources/auth.ts), which act with role ingest.
  'alerts.ingest':           { users: [],                                                    tokens: ['ingest'] },
  // A person's own browser session (who am I, sign out); tokens have none.
  'session.own':             { users: ['reporter', 'agent', 'engineer', 'manager', 'admin'], tokens: [] },
  'audit.read':              { users: ['admin'],                                             tokens: ['admin'] },
  'users.manage':            { users: ['admin'],                                             tokens: ['admin'] },
} as const satisfies Record<string, Allowed>;

export type Action = keyof typeof PERMISSIONS;

export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

/** The roles of the principal's kind that may do `action`. */
export function rolesAllowed(action: Action, kind: Principal['kind']): readonly string[] {
  const allowed: Allowed = PERMISSIONS[action];
  return kind === 'user' ? allowed.users : allowed.tokens;
}

/** Whether any of the principal's roles may do `action`. */
export function permits(principal: Principal, action: Action): boolean {
  const allowed = rolesAllowed(action, principal.kind);
  return principal.roles.some((r) => allowed.includes(r));
}
