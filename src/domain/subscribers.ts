// Who may be kept informed of an incident, and how many. One pure rule for both stores: each store
// reads the current list inside its write, asks planSubscribers what to add, and writes that.
import type { TimelineEntry } from './incident.js';

/** Default of incidents.max_subscribers. */
export const DEFAULT_MAX_SUBSCRIBERS = 50;

/** RFC 5321 4.5.3.1: a path holds at most 254 characters of address, a local part at most 64. */
export const MAX_ADDRESS_LENGTH = 254;
export const MAX_LOCAL_PART_LENGTH = 64;

/** What is wrong with the length of a mail address, or null; its syntax is the caller's schema's. */
export function addressLengthProblem(address: string): string | null {
  if (address.length > MAX_ADDRESS_LENGTH) return `must be at most ${MAX_ADDRESS_LENGTH} characters (RFC 5321), got ${address.length}`;
  const at = address.lastIndexOf('@');
  const local = at === -1 ? address : address.slice(0, at);
  if (local.length > MAX_LOCAL_PART_LENGTH) {
    return `the part before @ must be at most ${MAX_LOCAL_PART_LENGTH} characters (RFC 5321), got ${local.length}`;
  }
  return null;
}

export interface SubscriberPlan {
  /** New addresses to append, in the order given. */
  added: string[];
  /** New addresses left out because the list is full. */
  refused: string[];
  /** The list reaches `max` with this change (it was below): the moment to say so, once. */
  filled: boolean;
}

/**
 * Which of `proposed` join `current` when an incident keeps at most `max` subscribers. Addresses
 * already on the list (or repeated) change nothing; new ones are taken in order while there is room.
 */
export function planSubscribers(current: readonly string[], proposed: readonly string[], max: number): SubscriberPlan {
  const have = new Set(current);
  const added: string[] = [];
  const refused: string[] = [];
  for (const a of proposed) {
    if (have.has(a)) continue;
    have.add(a);
    if (current.length + added.length < max) added.push(a);
    else refused.push(a);
  }
  return { added, refused, filled: added.length > 0 && current.length + added.length === max };
}

/** The timeline note of the change that fills the list. */
export function subscriberLimitNote(max: number, refused: number): string {
  const left = refused > 0 ? `; ${refused} more ${refused === 1 ? 'address was' : 'addresses were'} not added` : '';
  return `the incident keeps at most ${max} subscribers (incidents.max_subscribers)${left}; further addresses are not added`;
}

/**
 * The subscription of `addresses` to an incident that has `current`: who joins, the timeline entries
 * (one per new subscriber, and a note when the list fills), how many were refused.
 */
export function planSubscription(
  current: readonly string[],
  addresses: readonly string[],
  actor: string,
  at: number,
  max: number,
): { added: string[]; entries: TimelineEntry[]; refused: number } {
  const plan = planSubscribers(current, addresses, max);
  const entries: TimelineEntry[] = plan.added.map((a) => ({ at, actor, action: 'subscribed', message: `${a} is kept informed` }));
  if (plan.filled) entries.push({ at, actor: 'system', action: 'subscribers-limit', message: subscriberLimitNote(max, plan.refused.length) });
  return { added: plan.added, entries, refused: plan.refused.length };
}
