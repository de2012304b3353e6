// How changes to incidents become notification events, and who hears of them. Pure: both stores
// call these inside their own transaction and only write what they return.
import type { Tier } from './classification.js';

/** What can happen to an incident, as told to channels and queued in the outbox: one list for all. */
export const INCIDENT_EVENT_TYPES = [
  'incident.opened',
  'incident.escalated',
  'incident.acknowledged',
  'incident.resolved',
  'incident.reopened',
  'incident.flapping-started',
  'incident.flapping-stopped',
  /** A person's comment: a note on the helpdesk's ticket. Never mailed to subscribers. */
  'incident.commented',
] as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[number];
/** A scheduled report mail (src/reports/mailer.ts): not about one incident. */
export const REPORT_MAIL_EVENT = 'report.mail';
/**
 * A reporter's receipt on joining an incident that was known already: addressed to that one person
 * (OutboxEvent.to), sent only by channels that mail the people an incident affects.
 */
export const REPORT_RECEIVED_EVENT = 'report.received';
export type OutboxEventType = IncidentEventType | typeof REPORT_MAIL_EVENT | typeof REPORT_RECEIVED_EVENT;

/** A composed report mail, stored whole in its outbox event so a retry sends the same figures. */
export interface ReportMail {
  tenant: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  attachment: { filename: string; content: string };
}

/** What happened to an incident, as stored in the outbox. The incident itself is loaded at delivery. */
export interface OutboxEvent {
  /** `${number}:${type}:${at}`: the same change always gets the same id (the idempotency key). */
  id: string;
  type: OutboxEventType;
  at: number;
  number: string;
  actor?: string;
  message?: string;
  tier?: Tier;
  /** A report mail (type report.mail; `number` then names the report, not an incident). */
  mail?: ReportMail;
  /** The one person a report.received event is for (not the incident's other subscribers). */
  to?: string[];
}

/** The id of the event written for a change; see OutboxEvent.id. */
export function outboxEventId(number: string, type: OutboxEventType, at: number): string {
  return `${number}:${type}:${at}`;
}

/**
 * The id of an event the escalation sweep writes. A late sweep may climb several tiers at one
 * instant, so the escalation level is part of it.
 */
export function escalationEventId(number: string, type: OutboxEventType, at: number, level: number): string {
  return `${outboxEventId(number, type, at)}:${level}`;
}

export function deliveryId(eventId: string, channelId: string): string {
  return `${eventId}:${channelId}`;
}

/** The event of a change: a person's action, or what a commit did. Empty messages are left out. */
export function changeEvent(number: string, type: OutboxEventType, at: number, actor?: string, message?: string): OutboxEvent {
  const event: OutboxEvent = { id: outboxEventId(number, type, at), type, at, number };
  if (actor !== undefined) event.actor = actor;
  if (message !== undefined && message !== '') event.message = message;
  return event;
}

/** The event an escalation sweep announces (see EscalationChange.announce in src/store/types.ts). */
export function escalationEvent(
  number: string,
  at: number,
  level: number,
  announce: { type: OutboxEventType; tier: Tier; message: string },
): OutboxEvent {
  const event: OutboxEvent = {
    id: escalationEventId(number, announce.type, at, level),
    type: announce.type,
    at,
    number,
    actor: 'escalation',
    tier: announce.tier,
  };
  if (announce.message !== '') event.message = announce.message;
  return event;
}

/**
 * The event of a person's change (an escalation, a severity change, a reopening): the person is its
 * actor and the reason its message. `level` (the escalation level after the change) is part of the
 * id, as for the sweep's events, so a change never shares an id with another at the same instant.
 */
export function personEvent(
  number: string,
  at: number,
  level: number,
  change: { type: OutboxEventType; actor: string; message: string; tier?: Tier },
): OutboxEvent {
  const event: OutboxEvent = { id: escalationEventId(number, change.type, at, level), type: change.type, at, number, actor: change.actor };
  if (change.tier !== undefined) event.tier = change.tier;
  if (change.message !== '') event.message = change.message;
  return event;
}

/**
 * The event of a person's comment, the `entry`th of the incident's timeline. Two comments in one
 * millisecond are two events, and their ids sort in the order they were written (deliveries of one
 * instant go out by id).
 */
export function commentEvent(number: string, at: number, entry: number, actor: string, text: string): OutboxEvent {
  const id = `${outboxEventId(number, 'incident.commented', at)}:${String(entry).padStart(8, '0')}`;
  return { id, type: 'incident.commented', at, number, actor, message: text };
}

/**
 * Who hears of a change: every channel told of the incident before (whoever heard of an incident
 * hears of its end) plus the ones named, each once, the earlier ones first. `notified` is the
 * incident's list afterwards: all of them count as told; `grew` says whether it changed.
 */
export function recipients(toldBefore: readonly string[], channels: readonly string[]): { notified: string[]; grew: boolean } {
  const all = new Set([...toldBefore, ...channels]);
  return { notified: [...all], grew: all.size !== toldBefore.length };
}

/** The order claimed deliveries are handed out in: oldest change first, then by id. */
export function compareDeliveries(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || a.id.localeCompare(b.id);
}

/** An announceable change a commit made to a fingerprint's incident, for the notify op after it. */
export interface IncidentChange {
  number: string;
  type: OutboxEventType;
  at: number;
}

export type NotifyPlan =
  | { kind: 'none' }
  /** Count `channels` as told without an event (an opening kept quiet while flapping). */
  | { kind: 'quiet'; channels: string[] }
  | { kind: 'event'; event: OutboxEvent; channels: string[] };

/**
 * What a notify op writes, from the change the ops before it made to its fingerprint's incident:
 * nothing without one (a repeat, or a commit run again after its answer was lost).
 */
export function planNotify(
  change: IncidentChange | undefined,
  op: { channels: string[]; actor?: string; message?: string; quiet?: boolean },
): NotifyPlan {
  if (change === undefined) return { kind: 'none' };
  if (op.quiet === true) return { kind: 'quiet', channels: op.channels };
  const event: OutboxEvent = { id: outboxEventId(change.number, change.type, change.at), type: change.type, at: change.at, number: change.number };
  if (op.actor !== undefined) event.actor = op.actor;
  if (op.message !== undefined) event.message = op.message;
  return { kind: 'event', event, channels: op.channels };
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export type DeliveryOutcome =
  | { delivered: true; at: number; reference?: string }
  | { retryAt: number; error: string }
  | { dead: true; at: number; error: string };

/** The fields a completed attempt writes to a pending delivery; the claim (lease) always ends. */
export type DeliverySettlement =
  | { status: 'delivered'; reference: string | null; finishedAt: number; lastError: null; leaseOwner: null }
  | { status: 'dead'; lastError: string; finishedAt: number; leaseOwner: null }
  | { status: 'pending'; nextAt: number; lastError: string; leaseOwner: null };

export function settleDelivery(outcome: DeliveryOutcome): DeliverySettlement {
  if ('delivered' in outcome) {
    return { status: 'delivered', reference: outcome.reference ?? null, finishedAt: outcome.at, lastError: null, leaseOwner: null };
  }
  if ('dead' in outcome) return { status: 'dead', lastError: outcome.error, finishedAt: outcome.at, leaseOwner: null };
  return { status: 'pending', nextAt: outcome.retryAt, lastError: outcome.error, leaseOwner: null };
}
