// auth.oidc in config/incidentd.yaml: single sign-on with an OpenID Connect identity provider
// (Keycloak, Entra ID, Google, Authentik…). Which IdP groups give which roles and tenants is the
// `groups` map; a person none of whose groups is mapped is refused sign-in.
import { z } from 'zod';
import { DEFAULT_TENANT, USER_ROLES } from '../domain/principal.js';
import { describeValue } from './yaml.js';

export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';
export const OIDC_LOGIN_PATH = '/auth/oidc/login';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A listen address only this machine reaches (cookies may then go without Secure: no TLS on loopback). */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === '[::1]' || host === 'localhost';
}

/** Plain http is allowed only to this machine (a local IdP, tests): tokens must not cross a network in clear. */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

const httpUrl = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? undefined : `${what} must be a URL, got ${describeValue(iss.input)}`) })
    .refine((s) => URL.canParse(s), { error: (iss) => `${what} must be an absolute URL like https://idp.example.com/realms/it, got ${describeValue(iss.input)}` })
    .refine((s) => !URL.canParse(s) || new URL(s).protocol === 'https:' || (new URL(s).protocol === 'http:' && isLoopbackUrl(new URL(s))), {
      error: (iss) => `${what} must use https (plain http only to 127.0.0.1, [::1] or localhost), got ${describeValue(iss.input)}`,
    });

const groupMapping = z
  .strictObject({
    roles: z.array(z.enum(USER_ROLES)).min(1, { error: 'give at least one role' }).describe(`Roles members of this group get: ${USER_ROLES.join(', ')}.`),
    tenants: z
      .union([z.literal('*'), z.array(z.string().min(1)).min(1, { error: 'give at least one tenant, or "*" for all' })])
      .default([DEFAULT_TENANT])
      .describe(`Tenants members of this group may see: a list of tenant ids, or "*" for all (an MSP's own staff). Default ["${DEFAULT_TENANT}"].`),
  })
  .describe('What members of one IdP group may do.');

export const oidcSchema = z
  .strictObject({
    issuer: httpUrl('issuer').describe(
      'Issuer URL of the identity provider; its /.well-known/openid-configuration is read at the first sign-in. E.g. https://sso.example.com/realms/it.',
    ),
    client_id: z.string().min(1).describe('Client id of incidentd at the identity provider.'),
    client_secret: z
      .string()
      .min(1, { error: 'client_secret must not be empty' })
      .describe('Client secret; use `${ENV}` to keep it out of the file.'),
    redirect_uri: httpUrl('redirect_uri')
      .optional()
      .describe(
        `Where the identity provider sends people back: the address people reach incidentd at, plus ${OIDC_CALLBACK_PATH}. Register it at the IdP. Default: http://<listen.host>:<listen.port>${OIDC_CALLBACK_PATH}.`,
      ),
    scopes: z
      .array(z.string().min(1))
      .default(['openid', 'profile', 'email'])
      .refine((s) => s.includes('openid'), { error: 'scopes must include "openid"' })
      .describe('Scopes asked for. Default [openid, profile, email]; some IdPs need "groups" too.'),
    groups_claim: z.string().min(1).default('groups').describe('Claim (in the ID token or from userinfo) that lists the person\'s groups. Default "groups".'),
    name_claim: z
      .string()
      .min(1)
      .optional()
      .describe('Claim shown as the person\'s name on timelines. Default: preferred_username, else email, else the subject.'),
    groups: z
      .record(z.string().min(1), groupMapping)
      .refine((g) => Object.keys(g).length > 0, { error: 'map at least one IdP group to roles; nobody could sign in otherwise' })
      .describe('IdP group name → roles and tenants. A person none of whose groups is listed here is refused sign-in.'),
  })
  .describe('Single sign-on with OpenID Connect (authorization code with PKCE).');

export type OidcFile = z.output<typeof oidcSchema>;

/** auth.oidc as the daemon uses it: camelCase, the redirect URI always filled. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scopes: string[];
  groupsClaim: string;
  /** null: preferred_username, else email, else the subject. */
  nameClaim: string | null;
  groups: Record<string, { roles: (typeof USER_ROLES)[number][]; tenants: '*' | string[] }>;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** Where the browser is sent back to by default: the address incidentd listens on. */
export function defaultRedirectUri(listen: { host: string; port: number }): string {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `http://${host}:${listen.port}${OIDC_CALLBACK_PATH}`;
}

/**
 * A redirect URI is needed when incidentd listens on every address: no browser can be sent back to
 * 0.0.0.0. Checked with the listen section, so it is reported at auth.oidc like any other problem.
 */
export function oidcListenIssues(
  listen: { host: string } | undefined,
  auth: { oidc?: { redirect_uri?: string | undefined } | undefined } | undefined,
): { path: (string | number)[]; message: string }[] {
  const oidc = auth?.oidc;
  if (!oidc || oidc.redirect_uri !== undefined || !listen || !WILDCARD_HOSTS.has(listen.host)) return [];
  return [
    {
      path: ['auth', 'oidc'],
      message: `listen.host is ${listen.host}, which a browser cannot be sent back to; set redirect_uri to the address people reach incidentd at, e.g. https://incidentd.example.com${OIDC_CALLBACK_PATH}`,
    },
  ];
}

export function oidcSettings(oidc: OidcFile | undefined, listen: { host: string; port: number }): OidcSettings | null {
  if (!oidc) return null;
  return {
    issuer: oidc.issuer,
    clientId: oidc.client_id,
    clientSecret: oidc.client_secret,
    redirectUri: oidc.redirect_uri ?? defaultRedirectUri(listen),
    scopes: oidc.scopes,
    groupsClaim: oidc.groups_claim,
    nameClaim: oidc.name_claim ?? null,
    groups: oidc.groups,
  };
}
