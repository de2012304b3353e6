// The tenant scope of an API request, read from the principal the authentication hook sets
// (src/api/auth.ts). Routes pass it to visibleTenants / mayAccess (src/domain/tenant-scope.ts).
import type { FastifyRequest } from 'fastify';
import type { Principal, TenantScope } from '../domain/principal.js';
import { ALL_TENANTS } from '../domain/tenant-scope.js';

/**
 * The scope of the request's principal. A request without one sees every tenant: until the
 * principal-setting hook is merged, every API token is an all-tenants token, as it is today.
 */
export function requestScope(request: FastifyRequest): TenantScope {
  // Read without a module augmentation of FastifyRequest: the auth hook owns that declaration.
  const principal = (request as FastifyRequest & { principal?: Principal | null }).principal;
  return principal?.tenants ?? ALL_TENANTS;
}
