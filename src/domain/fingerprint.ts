import { createHash } from 'node:crypto';

/**
 * The fingerprint names "the same problem": a hash of the values of a rule's `dedup_by` fields.
 * Field names go into the hash too, so `[target.id]` = "a" never equals `[check.name]` = "a".
 */
export function fingerprint(parts: ReadonlyArray<readonly [string, string]>): string {
  const h = createHash('sha256');
  for (const [k, v] of parts) {
    h.update(k);
    h.update('\u0000');
    h.update(v);
    h.update('\u0001');
  }
  // 128 bits are plenty; hex of the first 16 bytes is a flat string (a slice would keep the
  // whole 64-character digest alive for as long as the fingerprint is remembered).
  return h.digest().toString('hex', 0, 16);
}
