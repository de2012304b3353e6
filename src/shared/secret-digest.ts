// SHA-256 digests for comparing secrets (API tokens, source tokens, routing keys) in constant
// time: both sides are hashed to equal-length digests and compared with timingSafeEqual, so the
// time taken says nothing about how close a guess was. The digests are made once, not per request.
import { hash } from 'node:crypto';

export function sha256(s: string): Buffer {
  return hash('sha256', s, 'buffer');
}

// Digests of configured secrets, made once per config object; a reload brings new objects, and the
// old entries go with the old config.
const configured = new WeakMap<object, Buffer[]>();

/** The digests of a configured list of secrets (a source's tokens), in order. */
export function digestsOf(secrets: readonly string[]): Buffer[] {
  let digests = configured.get(secrets);
  if (digests === undefined) {
    digests = secrets.map(sha256);
    configured.set(secrets, digests);
  }
  return digests;
}

/** The digest of the secret held by a config object (an API token's `token`). */
export function digestOfSecret(owner: object, secret: string): Buffer {
  let digests = configured.get(owner);
  if (digests === undefined) {
    digests = [sha256(secret)];
    configured.set(owner, digests);
  }
  return digests[0]!;
}

/** Most presented credentials remembered per config object; past it, new ones are hashed each time. */
const PRESENTED_MAX = 256;

/**
 * Digests of presented credentials (an Authorization header, a routing key) that matched a
 * configured secret, per config object (the sources list, the API token list). A client presents
 * the same credential with every request, and hashing it was a measurable part of a small
 * request's CPU. Only matches are kept, so guesses cannot fill it and no guess is ever answered
 * from it; the comparison with the configured digests still runs on every request, so a secret
 * removed by a reload stops working at once, and the memo goes with the config object it belongs to.
 */
export class PresentedDigests {
  private readonly byConfig = new WeakMap<object, Map<string, Buffer>>();

  /** The digest remembered for `presented` under `config`, or undefined. */
  get(config: object, presented: string): Buffer | undefined {
    return this.byConfig.get(config)?.get(presented);
  }

  /** Remembers the digest of a presented credential that matched a secret of `config`. */
  remember(config: object, presented: string, digest: Buffer): void {
    let memo = this.byConfig.get(config);
    if (memo === undefined) {
      memo = new Map();
      this.byConfig.set(config, memo);
    }
    if (memo.size < PRESENTED_MAX) memo.set(presented, digest);
  }
}
