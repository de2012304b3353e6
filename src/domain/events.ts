// What can happen to an incident, as told to channels and queued in the outbox. One list for the
// notifier (src/notify/types.ts) and the stores (src/store/types.ts), which both sit above it.
export const INCIDENT_EVENT_TYPES = [
  'incident.opened',
  'incident.escalated',
  'incident.acknowledged',
  'incident.resolved',
  'incident.reopened',
  'incident.flapping-started',
  'incident.flapping-stopped',
] as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[number];
