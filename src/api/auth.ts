// Bearer-token authentication for /api/. Tokens come from the config and may change on reload,
// so the caller passes the current list on every check.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config-core/types.js';

export type AuthResult =
  | { ok: true; name: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'invalid' | 'none-configured'; message: string };

// RFC 6750 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Checks an Authorization header against the configured tokens. Both sides are hashed to
 * equal-length SHA-256 digests and compared with timingSafeEqual, and every token is compared
 * (no early exit), so response time says nothing about how close a guess was.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): AuthResult {
  if (header === undefined || header.trim() === '') {
    return {
      ok: false,
      reason: 'missing',
      message: 'missing Authorization header; send "Authorization: Bearer <token>" with a token from api.tokens',
    };
  }
  const m = BEARER.exec(header);
  if (!m) {
    return {
      ok: false,
      reason: 'malformed',
      message: 'malformed Authorization header; expected "Authorization: Bearer <token>"',
    };
  }
  const usable = tokens.filter((t) => t.token !== '');
  if (usable.length === 0) {
    return {
      ok: false,
      reason: 'none-configured',
      message: 'no API tokens are configured; add one under api.tokens in the daemon configuration',
    };
  }
  const given = digest(m[1]!);
  let match: string | null = null;
  for (const t of usable) {
    if (timingSafeEqual(given, digest(t.token)) && match === null) match = t.name;
  }
  if (match === null) {
    return { ok: false, reason: 'invalid', message: 'invalid API token; check the token against api.tokens' };
  }
  return { ok: true, name: match };
}
