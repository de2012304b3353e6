import type { Incident } from '../domain/incident.js';

/** What people do to incidents (through the API or the portal); the manager implements it. */
export interface IncidentCommands {
  acknowledge(number: string, actor: string, message: string): Promise<Incident>;
  resolve(number: string, actor: string, message: string): Promise<Incident>;
  comment(number: string, actor: string, text: string): Promise<Incident>;
  /** Keeps `address` informed of the incident's status changes and resolution. */
  subscribe(number: string, address: string, actor: string): Promise<Incident>;
}
