// The IdP's claims as incidentd sees the person: group map → roles and tenants, name, id; and the
// return_to check that keeps the sign-in from sending people to another site.
import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/api/oidc.js';
import { principalFromClaims } from '../../src/api/oidc-principal.js';
import type { OidcSettings } from '../../src/config-core/oidc.js';

const settings: OidcSettings = {
  issuer: 'https://sso.example.com/realms/it',
  clientId: 'incidentd',
  clientSecret: 'x',
  redirectUri: 'https://incidentd.example.com/auth/oidc/callback',
  scopes: ['openid'],
  groupsClaim: 'roles',
  nameClaim: null,
  groups: {
    helpdesk: { roles: ['agent'], tenants: ['globex'] },
    admins: { roles: ['admin', 'engineer'], tenants: '*' },
    acme: { roles: ['reporter'], tenants: ['acme'] },
  },
};
const ISSUER = 'https://sso.example.com/realms/it';

describe('principalFromClaims', () => {
  it('joins the roles and tenants of every mapped group, roles in their fixed order', () => {
    const r = principalFromClaims(settings, ISSUER, { sub: 'u-1', preferred_username: 'kim', roles: ['acme', 'helpdesk', 'other'] });
    expect(r).toEqual({
      ok: true,
      principal: {
        kind: 'user',
        id: 'oidc:https://sso.example.com/realms/it#u-1',
        name: 'kim',
        roles: ['reporter', 'agent'],
        tenants: { all: false, tenants: ['acme', 'globex'] },
      },
    });
  });

  it('"*" in any mapped group gives every tenant', () => {
    const r = principalFromClaims(settings, ISSUER, { sub: 'u-2', email: 'lee@example.com', roles: ['helpdesk', 'admins'] });
    expect(r).toMatchObject({ ok: true, principal: { name: 'lee@example.com', roles: ['agent', 'engineer', 'admin'], tenants: { all: true } } });
  });

  it('refuses without a mapped group, naming the groups it saw or the missing claim', () => {
    const none = principalFromClaims(settings, ISSUER, { sub: 'u-3', preferred_username: 'pat', roles: ['constructor', '__proto__', 'toString'] });
    expect(none).toMatchObject({ ok: false, message: expect.stringContaining('your groups: constructor, __proto__, toString') as unknown });
    const missing = principalFromClaims(settings, ISSUER, { sub: 'u-4' });
    expect(missing).toMatchObject({ ok: false, name: 'u-4', message: expect.stringContaining('the identity provider sent no "roles" claim') as unknown });
  });

  it('reads a configured name claim, and a groups claim sent as one string', () => {
    const r = principalFromClaims({ ...settings, nameClaim: 'name' }, ISSUER, { sub: 'u-5', name: 'Ana Ruiz', preferred_username: 'ana', roles: 'helpdesk acme' });
    expect(r).toMatchObject({ ok: true, principal: { name: 'Ana Ruiz', roles: ['reporter', 'agent'] } });
  });
});

describe('safeReturnTo', () => {
  it('keeps paths on this site', () => {
    expect(safeReturnTo(undefined)).toBe('/');
    expect(safeReturnTo('/incidents/INC-000123?tab=timeline#c4')).toBe('/incidents/INC-000123?tab=timeline#c4');
  });

  it('refuses anything a browser could read as another site', () => {
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'evil', '/x\n', '', ['/a']]) {
      expect(safeReturnTo(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
