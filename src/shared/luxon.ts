// luxon, loaded on first use. It is about 1 MB of heap with its code, and only business hours,
// maintenance windows, reports and the status page's history ask it anything, so a daemon that
// computes none of them never loads it. Loaded synchronously (its CommonJS build through require)
// so the pure calendar and report functions stay synchronous.
import { createRequire } from 'node:module';
import type * as Luxon from 'luxon';

let loaded: typeof Luxon | undefined;

export function luxon(): typeof Luxon {
  return (loaded ??= createRequire(import.meta.url)('luxon') as typeof Luxon);
}

/**
 * Whether `zone` names a time zone Node's ICU data knows: the same test as luxon's
 * IANAZone.isValidZone, without loading luxon (config validation asks it for every time zone).
 */
export function isValidTimeZone(zone: string): boolean {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone }).format();
    return true;
  } catch {
    return false;
  }
}
