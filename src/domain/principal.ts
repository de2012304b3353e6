// Who is asking: a person signed in (local account or single sign-on) or an API token. Every
// route decides from a Principal alone, so the API, the portal and the CLI share one access rule.

/** Roles of people. An engineer works tiers L2/L3, an agent L1. */
export const USER_ROLES = ['reporter', 'agent', 'engineer', 'manager', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Roles of API tokens. Tokens configured before roles existed are `write`. */
export const TOKEN_ROLES = ['read', 'ingest', 'write', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** The tenant every installation without tenants puts everything in. */
export const DEFAULT_TENANT = 'default';

/** Which tenants a principal may see: all of them (an MSP's own staff) or the ones listed. */
export type TenantScope = { all: true } | { all: false; tenants: readonly string[] };

export type Principal =
  | {
      kind: 'user';
      /** Stable id of the account (local) or the IdP subject (`oidc:<issuer>#<sub>`). */
      id: string;
      /** What the timeline shows: the user name, or the IdP's preferred_username / email. */
      name: string;
      roles: readonly UserRole[];
      tenants: TenantScope;
      /** The session this request came with (sign-out ends it). */
      sessionId: string;
    }
  | {
      kind: 'token';
      /** The token's configured name. */
      id: string;
      name: string;
      roles: readonly TokenRole[];
      tenants: TenantScope;
    };

export function seesTenant(scope: TenantScope, tenant: string): boolean {
  return scope.all || scope.tenants.includes(tenant);
}
