// auth.oidc in incidentd.yaml: defaults filled, ${ENV} secrets, and mistakes reported at their
// position like every other configuration error.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { fixturePaths, issueLines } from './helpers.js';

describe('auth.oidc', () => {
  it('is off when not written', async () => {
    const loaded = await loadConfig(fixturePaths('ok'), {});
    expect(loaded.daemon.auth.oidc).toBeNull();
  });

  it('fills the defaults and reads the secret from the environment', async () => {
    const loaded = await loadConfig(fixturePaths('oidc-ok'), { OIDC_CLIENT_SECRET: 'from-env-7c2a' });
    expect(loaded.daemon.auth.oidc).toEqual({
      issuer: 'https://sso.example.com/realms/it',
      clientId: 'incidentd',
      clientSecret: 'from-env-7c2a',
      redirectUri: 'http://127.0.0.1:19740/auth/oidc/callback',
      scopes: ['openid', 'profile', 'email'],
      groupsClaim: 'groups',
      nameClaim: null,
      groups: {
        'it-helpdesk': { roles: ['agent'], tenants: ['default'] },
        'msp-staff': { roles: ['engineer', 'manager'], tenants: '*' },
        'acme-it': { roles: ['agent'], tenants: ['acme'] },
      },
    });
  });

  it('an unset ${ENV} secret is an error, and so is an empty one', async () => {
    expect(await issueLines('oidc-ok')).toEqual([
      'oidc-ok/incidentd.yaml:7:20: environment variable OIDC_CLIENT_SECRET is not set (set it, or give a default: ${OIDC_CLIENT_SECRET:-value})',
    ]);
    expect(await issueLines('oidc-ok', { OIDC_CLIENT_SECRET: '' })).toEqual([
      'oidc-ok/incidentd.yaml:7:20: client_secret must not be empty, got ""',
    ]);
  });

  it('reports each mistake at its position: plain http, no openid scope, unknown role, empty roles, bad tenants', async () => {
    expect(await issueLines('oidc-bad', { OIDC_CLIENT_SECRET: 'x' })).toEqual([
      'oidc-bad/incidentd.yaml:5:13: issuer must use https (plain http only to 127.0.0.1, [::1] or localhost), got "http://sso.example.com/realms/it"',
      'oidc-bad/incidentd.yaml:8:13: scopes must include "openid"',
      'oidc-bad/incidentd.yaml:11:17: must be one of "reporter", "agent", "engineer", "manager", "admin", got "agnet" (did you mean "agent"?)',
      'oidc-bad/incidentd.yaml:13:16: give at least one role',
      'oidc-bad/incidentd.yaml:14:18: expected "*" or a list, got the string "all"',
    ]);
  });

  it('needs redirect_uri when incidentd listens on every address', async () => {
    const lines = await issueLines('oidc-wildcard');
    expect(lines).toEqual([
      'oidc-wildcard/incidentd.yaml:6:5: listen.host is 0.0.0.0, which a browser cannot be sent back to; set redirect_uri to the address people reach incidentd at, e.g. https://incidentd.example.com/auth/oidc/callback',
    ]);
  });
});
