// The notification boundary: what happened to an incident (an IncidentEvent), and the Channel that
// tells the outside world about it. The outbox (durable delivery with retries) and the escalator
// call channels; a channel delivers one event once and says how that went.
import type { ReportMail } from '../domain/events.js';
import type { z } from 'zod';
import type { Tier } from '../domain/classification.js';
import type { Incident } from '../domain/incident.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

import type { IncidentEventType } from '../domain/events.js';
export { INCIDENT_EVENT_TYPES, type IncidentEventType } from '../domain/events.js';

export interface IncidentEvent {
  /** Unique per event; the idempotency key a receiver uses to drop a repeated delivery. */
  id: string;
  type: IncidentEventType;
  /** Epoch milliseconds when it happened. */
  at: number;
  /** The incident as it is after the event. */
  incident: Incident;
  /** The tier notified (escalation) or now responsible. */
  tier?: Tier;
  /** Who acted: `system`, a rule id, or the API user. */
  actor?: string;
  /** Free text that goes with the event (an acknowledgement note, the escalation reason). */
  message?: string;
}

/**
 * How one delivery went. `retryable`: the same event may go through later (connection refused or
 * reset, timeouts, SMTP 4xx, HTTP 408/429/5xx); `retryAfterMs` is the receiver's own wish
 * (Retry-After). `permanent`: sending it again gives the same answer (SMTP 5xx, HTTP 4xx, bad
 * configuration); the outbox dead-letters it at once.
 */
export type DeliveryResult =
  | { outcome: 'ok'; /** e.g. the mail's Message-ID or a ticket id */ reference?: string }
  | { outcome: 'retryable'; error: string; retryAfterMs?: number }
  | { outcome: 'permanent'; error: string };

/** A reporter's receipt (OutboxEvent of type report.received), with the incident as it is now. */
export interface ReceiptEvent {
  id: string;
  at: number;
  incident: Incident;
  /** The reporter's address. */
  to: string[];
}

export interface Channel {
  /** The configured id, unique among channels. */
  readonly id: string;
  /** The channel kind: `email`, `webhook`, … */
  readonly type: string;
  /**
   * Delivers one event. Never throws for a delivery problem: it classifies it. `signal` aborts the
   * attempt (shutdown); an aborted attempt is `retryable`, since the receiver may not have it.
   */
  deliver(event: IncidentEvent, signal: AbortSignal): Promise<DeliveryResult>;
  /** Sends a mail that is about no incident (a scheduled report); only mail channels have it. `eventId` is its idempotency key. */
  deliverMail?(mail: ReportMail, eventId: string, signal: AbortSignal): Promise<DeliveryResult>;
  /**
   * Mails one reporter the receipt for a report that joined `event.incident` (its number and status
   * now); only channels that mail the people of an incident have it. `event.id` is its idempotency key.
   */
  deliverReceipt?(event: ReceiptEvent, signal: AbortSignal): Promise<DeliveryResult>;
  /** Releases pooled connections; the channel is not used afterwards. */
  close?(): Promise<void>;
  /**
   * What people see of a ticket reference this channel stored (Incident.tickets), and where the
   * ticket opens in the helpdesk; absent: the reference is shown as it is, without a link.
   */
  ticketLink?(reference: string): TicketLink;
}

export interface TicketLink {
  /** The number people know the ticket by (INC0010002, OPS-12). */
  display: string;
  /** The ticket in the helpdesk's web interface; null when there is no page to open. */
  url: string | null;
}

/** What a channel gets from the composition root. */
export interface ChannelDeps {
  clock: Clock;
  logger: Logger;
}

/** One channel kind: its config schema and how to build a channel from a parsed config. */
export interface ChannelKind<S extends z.ZodType<{ id: string; type: string }> = z.ZodType<{ id: string; type: string }>> {
  readonly type: string;
  readonly schema: S;
  // Method syntax on purpose: the registry holds kinds of different configs in one list.
  create(config: z.output<S>, deps: ChannelDeps): Channel;
  /**
   * The config with every file it names made absolute by `resolve` (files are written relative to
   * the config file, not to wherever the daemon started). Absent: the kind names no files.
   */
  resolveFiles?(config: z.output<S>, resolve: (file: string) => string): z.output<S>;
}

/** A channel config that passed its schema still cannot work (e.g. a template file that does not parse). */
export class ChannelConfigError extends IncidentdError {
  constructor(
    readonly channelId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`channel "${channelId}": ${message}`, options);
  }
}

export function delivered(reference?: string): DeliveryResult {
  return reference === undefined ? { outcome: 'ok' } : { outcome: 'ok', reference };
}

export function retryable(error: string, retryAfterMs?: number): DeliveryResult {
  return retryAfterMs === undefined ? { outcome: 'retryable', error } : { outcome: 'retryable', error, retryAfterMs };
}

export function permanent(error: string): DeliveryResult {
  return { outcome: 'permanent', error };
}
