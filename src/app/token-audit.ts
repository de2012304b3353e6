// API tokens are configured in YAML, not managed through an API, so their changes become security
// events when a reload puts them in force: which token came, went, or got another role, scope or
// secret. The secret itself is never written anywhere.
import type { ApiToken } from '../config-core/types.js';
import type { AuditEventType } from '../domain/account.js';

export interface TokenChange {
  type: Extract<AuditEventType, 'token-added' | 'token-removed' | 'token-changed'>;
  /** The token's name. */
  subject: string;
  detail: string;
}

function roleOf(t: ApiToken): string {
  return t.role ?? 'write';
}

function tenantsOf(t: ApiToken): string {
  return t.tenants === undefined || t.tenants === '*' ? 'all tenants' : `tenants ${t.tenants.join(', ')}`;
}

/** What changed between the tokens in force before a reload and after it, by token name. */
export function tokenChanges(before: readonly ApiToken[], after: readonly ApiToken[]): TokenChange[] {
  const old = new Map(before.map((t) => [t.name, t]));
  const now = new Map(after.map((t) => [t.name, t]));
  const out: TokenChange[] = [];
  for (const [name, t] of now) {
    const was = old.get(name);
    if (!was) {
      out.push({ type: 'token-added', subject: name, detail: `role ${roleOf(t)}; ${tenantsOf(t)}` });
      continue;
    }
    const what: string[] = [];
    if (roleOf(was) !== roleOf(t)) what.push(`role ${roleOf(was)} -> ${roleOf(t)}`);
    if (tenantsOf(was) !== tenantsOf(t)) what.push(`${tenantsOf(was)} -> ${tenantsOf(t)}`);
    if (was.token !== t.token) what.push('secret replaced');
    if (what.length > 0) out.push({ type: 'token-changed', subject: name, detail: what.join('; ') });
  }
  for (const [name, t] of old) {
    if (!now.has(name)) out.push({ type: 'token-removed', subject: name, detail: `was role ${roleOf(t)}; ${tenantsOf(t)}` });
  }
  return out;
}
