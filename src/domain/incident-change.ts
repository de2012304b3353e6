// What the live views (the portal's list and detail pages) hear about: that an incident changed,
// not how. A client refetches what it shows, through the same API and permissions, so the event
// carries only what is needed to pick the views concerned: the number, its tenant (to route the
// event to the streams that may see it), its status and a word for the change.
import type { IncidentStatus } from './incident.js';

export const INCIDENT_CHANGES = [
  'opened',
  'reopened',
  'acknowledged',
  'commented',
  'subscribed',
  'escalated',
  'sla',
  'silenced',
  'reclassified',
  'flapping',
  'related',
  'resolved',
  'closed',
] as const;
export type IncidentChangeKind = (typeof INCIDENT_CHANGES)[number];

export interface IncidentChange {
  number: string;
  tenant: string;
  status: IncidentStatus;
  change: IncidentChangeKind;
  /** When it was committed, epoch ms. */
  at: number;
}

/** Where committed incident changes go (the API's event streams). */
export interface IncidentChangeSink {
  /** Whether anyone listens: with nobody, the publisher skips the reads it needs to describe a change. */
  readonly watching: boolean;
  publish(change: IncidentChange): void;
}
