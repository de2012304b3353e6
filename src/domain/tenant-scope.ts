// Which tenants one request may see. Every route that reads or acts on tenant data asks this one
// function, so the rule "a user of tenant A never sees anything of tenant B" is written once.
import { seesTenant, type TenantScope } from './principal.js';

/** Every tenant: an MSP's own staff, or a request before sign-in scopes exist. */
export const ALL_TENANTS: TenantScope = { all: true };

/**
 * The tenants a list may show: those asked for (`requested`, a `tenant` filter) that the scope
 * sees, or every tenant the scope sees when none are asked for. null: no restriction at all (a
 * scope of all tenants and no filter). An empty list means nothing may be shown; callers pass it
 * on as a filter that matches nothing, never drop it as "no filter".
 */
export function visibleTenants(scope: TenantScope, requested: readonly string[] | undefined): readonly string[] | null {
  const asked = requested === undefined || requested.length === 0 ? null : [...new Set(requested)];
  if (scope.all) return asked;
  if (asked === null) return [...scope.tenants];
  return asked.filter((t) => seesTenant(scope, t));
}

/** Whether one thing of `tenant` may be read or acted on; when not, answer as if it did not exist. */
export function mayAccess(scope: TenantScope, tenant: string): boolean {
  return seesTenant(scope, tenant);
}
