import { hash } from 'node:crypto';

/**
 * The fingerprint names "the same problem": a hash of the values of a rule's `dedup_by` fields.
 * Field names go into the hash too, so `[target.id]` = "a" never equals `[check.name]` = "a".
 */
export function fingerprint(parts: ReadonlyArray<readonly [string, string]>): string {
  // Hashed as one text, which is cheaper than one update per piece and gives the same digest: the
  // UTF-8 of the joined text is the UTF-8 of its pieces in turn, since the separators keep any
  // surrogate halves of neighbouring pieces apart. Fingerprints are stored, so this must not change.
  let text = '';
  for (const [k, v] of parts) text += `${k}\u0000${v}\u0001`;
  // 128 bits are plenty; hex of the first 16 bytes is a flat string (a slice would keep the
  // whole 64-character digest alive for as long as the fingerprint is remembered).
  return hash('sha256', text, 'buffer').toString('hex', 0, 16);
}
