import type { Impact, Severity, Tier } from '../domain/classification.js';
import type { Incident } from '../domain/incident.js';

/** What people do to incidents (through the API or the portal); the manager implements it. */
export interface IncidentCommands {
  acknowledge(number: string, actor: string, message: string): Promise<Incident>;
  resolve(number: string, actor: string, message: string): Promise<Incident>;
  comment(number: string, actor: string, text: string): Promise<Incident>;
  /** Keeps `address` informed of the incident's status changes and resolution. */
  subscribe(number: string, address: string, actor: string): Promise<Incident>;
  /** Escalates an active incident by hand to a tier above its own. */
  escalate(number: string, tier: Tier, actor: string, reason: string): Promise<Incident>;
  /** Changes the severity and/or impact of an active incident; the priority follows. */
  reclassify(number: string, to: { severity?: Severity | undefined; impact?: Impact | undefined }, actor: string, reason: string): Promise<Incident>;
  /** Reopens a resolved (not closed) incident. */
  reopen(number: string, actor: string, reason: string): Promise<Incident>;
}
