// Who a person signed in through the identity provider is to incidentd: the claims of the ID token
// (and userinfo) turned into a Principal by the auth.oidc.groups map. Pure, so the mapping is tested
// on its own and the sign-in route only moves data.
import type { OidcSettings } from '../config-core/oidc.js';
import { USER_ROLES, type Principal, type UserRole } from '../domain/principal.js';

/** A person about to get a session: everything but the session, which startSession creates. */
export type SignInPrincipal = Omit<Extract<Principal, { kind: 'user' }>, 'sessionId'>;

export type Claims = Record<string, unknown>;

export type MappingResult =
  | { ok: true; principal: SignInPrincipal }
  | { ok: false; name: string; groups: string[]; message: string };

/** The groups claim as a list of names; IdPs send an array, a few a single string or a space-separated one. */
export function groupsOf(claims: Claims, claim: string): string[] {
  const value = claims[claim];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((g) => g.length > 0);
  return [];
}

/** The name the timeline shows: the configured claim, else preferred_username, else email, else the subject. */
export function nameOf(claims: Claims, nameClaim: string | null): string {
  const candidates = nameClaim === null ? ['preferred_username', 'email'] : [nameClaim];
  for (const c of candidates) {
    const v = claims[c];
    if (typeof v === 'string' && v.trim().length > 0) return v.trim();
  }
  return String(claims.sub);
}

export function principalFromClaims(settings: OidcSettings, issuer: string, claims: Claims): MappingResult {
  const name = nameOf(claims, settings.nameClaim);
  const groups = groupsOf(claims, settings.groupsClaim);
  const roles = new Set<UserRole>();
  const tenants = new Set<string>();
  let allTenants = false;
  for (const g of groups) {
    // Own keys only: a group called "constructor" or "__proto__" must not match the object's prototype.
    if (!Object.hasOwn(settings.groups, g)) continue;
    const mapping = settings.groups[g];
    if (!mapping) continue;
    for (const r of mapping.roles) roles.add(r);
    if (mapping.tenants === '*') allTenants = true;
    else for (const t of mapping.tenants) tenants.add(t);
  }
  if (roles.size === 0) {
    const had = groups.length === 0 ? `the identity provider sent no "${settings.groupsClaim}" claim` : `your groups: ${groups.join(', ')}`;
    return {
      ok: false,
      name,
      groups,
      message:
        `${name} may not sign in to incidentd: none of your groups gives a role here (${had}). ` +
        'Ask an incidentd administrator to map one of your groups in auth.oidc.groups.',
    };
  }
  return {
    ok: true,
    principal: {
      kind: 'user',
      id: `oidc:${issuer}#${String(claims.sub)}`,
      name,
      // In the order of USER_ROLES, whatever the order of the groups.
      roles: USER_ROLES.filter((r) => roles.has(r)),
      tenants: allTenants ? { all: true } : { all: false, tenants: [...tenants].sort() },
    },
  };
}
