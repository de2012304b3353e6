// The scope of a request fails closed: one that reached tenant data without a principal (a route
// the guard did not sign in) sees no tenant, not every tenant.
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { requestScope } from '../../src/api/tenant-scope.js';
import type { Principal } from '../../src/domain/principal.js';
import { visibleTenants } from '../../src/domain/tenant-scope.js';

const request = (principal: Principal | null | undefined) => ({ principal }) as unknown as FastifyRequest;

describe('requestScope', () => {
  it('without a principal sees no tenant, even when a filter names one', () => {
    for (const none of [null, undefined]) {
      const scope = requestScope(request(none));
      expect(scope).toEqual({ all: false, tenants: [] });
      expect(visibleTenants(scope, undefined)).toEqual([]);
      expect(visibleTenants(scope, ['acme'])).toEqual([]);
    }
  });

  it('with a principal sees what it is scoped to', () => {
    const p: Principal = { kind: 'token', id: 't', name: 't', roles: ['read'], tenants: { all: false, tenants: ['acme'] } };
    expect(requestScope(request(p))).toEqual({ all: false, tenants: ['acme'] });
  });
});
