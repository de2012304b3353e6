// The tenant scope of an API request, read from the principal the authentication hook sets
// (src/api/auth.ts). Routes pass it to visibleTenants / mayAccess (src/domain/tenant-scope.ts).
import type { FastifyRequest } from 'fastify';
import type { Principal, TenantScope } from '../domain/principal.js';

/** Sees nothing: the scope of a request that reached tenant data without a principal. */
export const NO_TENANTS: TenantScope = { all: false, tenants: [] };

/**
 * The scope of the request's principal. A request without one sees no tenant (fails closed): the
 * guard (src/api/auth.ts) sets a principal before every route that reads tenant data, and public
 * routes (health, readiness, metrics, the API description, sign-in) read none.
 */
export function requestScope(request: FastifyRequest): TenantScope {
  // Read without a module augmentation of FastifyRequest: the auth hook owns that declaration.
  const principal = (request as FastifyRequest & { principal?: Principal | null }).principal;
  return principal?.tenants ?? NO_TENANTS;
}
