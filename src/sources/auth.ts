// Bearer tokens of the alert sources. Each endpoint takes the tokens of one source type: a token
// of another source type, or an API token, is known but of the wrong scope (403), anything else
// is unknown (401).
import { timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config-core/types.js';
import { digestOfSecret, digestsOf, PresentedDigests, sha256 } from '../shared/secret-digest.js';
import type { SourceConfig, SourceType } from './config.js';

export type SourceAuth =
  | { ok: true; source: SourceConfig }
  | { ok: false; status: 401 | 403; reason: 'missing' | 'malformed' | 'invalid' | 'scope'; message: string };

// RFC 6750 b64token, as in src/api/auth.ts.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Authorization headers that matched, per sources list (a reload drops them). */
const presented = new PresentedDigests();
/** Routing keys that matched, likewise; apart from the headers, whose digest is of the token inside. */
const presentedKeys = new PresentedDigests();

/**
 * Finds the source a bearer token belongs to. Both sides are hashed to equal-length digests and
 * compared with timingSafeEqual, and every configured token is compared (no early exit), so the
 * time taken says nothing about how close a guess was.
 */
export function authenticateSource(
  header: string | undefined,
  type: SourceType,
  sources: readonly SourceConfig[],
  apiTokens: readonly ApiToken[],
): SourceAuth {
  if (header === undefined || header.trim() === '') {
    return { ok: false, status: 401, reason: 'missing', message: `missing Authorization header; send "Authorization: Bearer <token>" with a token of ${aSource(type)}` };
  }
  // A header that matched before was well-formed; its digest is the one it had then.
  let given = presented.get(sources, header);
  const known = given !== undefined;
  if (given === undefined) {
    const m = BEARER.exec(header);
    if (!m) return { ok: false, status: 401, reason: 'malformed', message: 'malformed Authorization header; expected "Authorization: Bearer <token>"' };
    given = sha256(m[1]!);
  }

  let match: SourceConfig | null = null;
  let other = false;
  for (const s of sources) {
    for (const t of digestsOf(s.tokens)) {
      if (!timingSafeEqual(given, t)) continue;
      if (s.type === type && match === null) match = s;
      else if (s.type !== type) other = true;
    }
  }
  for (const t of apiTokens) {
    if (t.token !== '' && timingSafeEqual(given, digestOfSecret(t, t.token))) other = true;
  }
  if (!known && (match !== null || other)) presented.remember(sources, header, given);
  if (match !== null) return { ok: true, source: match };
  // Known, but not for this: the answer does not say whose it is, which would tell a caller
  // holding one secret the names of the others.
  if (other) {
    return { ok: false, status: 403, reason: 'scope', message: `this token may not send alerts here; this endpoint takes tokens of ${type} sources` };
  }
  return { ok: false, status: 401, reason: 'invalid', message: `invalid token; use a token listed under the tokens of ${aSource(type)} in the daemon configuration` };
}

/** "an alertmanager source", "a generic source". */
function aSource(type: SourceType): string {
  return `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type} source`;
}

/** The pagerduty source whose routing_keys hold the key, or null; compared like tokens. */
export function sourceForRoutingKey(key: string, sources: readonly SourceConfig[]): SourceConfig | null {
  const known = presentedKeys.get(sources, key);
  const given = known ?? sha256(key);
  let match: SourceConfig | null = null;
  for (const s of sources) {
    if (s.type !== 'pagerduty') continue;
    for (const k of digestsOf(s.routingKeys)) if (timingSafeEqual(given, k) && match === null) match = s;
  }
  if (known === undefined && match !== null) presentedKeys.remember(sources, key, given);
  return match;
}
