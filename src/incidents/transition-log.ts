// What happened to an incident, as one info line each: opened, reopened, severity raised,
// acknowledged, escalated, resolved. Logged only from what a commit reports it did (the store's
// results, the incident a command returns, an applied escalation), never from what was planned.
import type { Impact, Priority, Severity, Tier } from '../domain/classification.js';
import type { Incident, IncidentBrief } from '../domain/incident.js';
import type { Logger } from '../shared/logger.js';

export type IncidentTransition =
  | { event: 'opened'; number: string; incident: IncidentBrief }
  /** `by`: the person who reopened it by hand, with `why`; absent when a failure reopened it. */
  | { event: 'reopened'; number: string; incident: IncidentBrief; by?: string; why?: string }
  | { event: 'raised'; number: string; incident: IncidentBrief; from: Severity }
  | { event: 'acknowledged'; number: string; incident: IncidentBrief; by: string; note: string }
  /** `by`: the person who escalated it by hand; absent when the sweep did. */
  | { event: 'escalated'; number: string; incident: IncidentBrief; fromTier: Tier; why: string; by?: string }
  | {
      event: 'reclassified';
      number: string;
      incident: IncidentBrief;
      from: { severity: Severity; impact: Impact; priority: Priority };
      by: string;
      why: string;
    }
  | { event: 'resolved'; number: string; incident: IncidentBrief | null; by: string; why: string };

/** The brief of a whole incident (a command's answer, an escalation's read). */
export function briefOf(inc: Pick<Incident, 'title' | 'severity' | 'tier' | 'target'>): IncidentBrief {
  return { title: inc.title, severity: inc.severity, tier: inc.tier, target: { id: inc.target.id, name: inc.target.name } };
}

function about(i: IncidentBrief): string {
  return `"${i.title}" on ${i.target.name === i.target.id ? i.target.id : `${i.target.name} (${i.target.id})`}`;
}

/** The log line of one transition: structured fields and a sentence. */
export function logTransition(logger: Logger, t: IncidentTransition): void {
  const i = t.incident;
  const fields: Record<string, unknown> = { event: `incident.${t.event}`, incident: t.number };
  if (i) Object.assign(fields, { title: i.title, target: i.target.id, targetName: i.target.name, severity: i.severity, tier: i.tier });
  switch (t.event) {
    case 'opened':
      logger.info(fields, `${t.number} ${t.event}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`);
      return;
    case 'reopened':
      if (t.by === undefined) {
        logger.info(fields, `${t.number} ${t.event}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`);
      } else {
        logger.info(
          { ...fields, by: t.by, why: t.why },
          `${t.number} reopened by ${t.by}${t.why ? ` (${t.why})` : ''}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`,
        );
      }
      return;
    case 'reclassified':
      logger.info(
        { ...fields, by: t.by, why: t.why, fromSeverity: t.from.severity, fromImpact: t.from.impact, fromPriority: t.from.priority },
        `${t.number} reclassified by ${t.by} from ${t.from.severity}/${t.from.impact} (${t.from.priority}) to ${t.incident.severity}: ${about(t.incident)}: ${t.why}`,
      );
      return;
    case 'raised':
      logger.info({ ...fields, from: t.from }, `${t.number} severity raised from ${t.from} to ${t.incident.severity}: ${about(t.incident)}`);
      return;
    case 'acknowledged':
      logger.info(
        { ...fields, by: t.by, why: t.note },
        `${t.number} acknowledged by ${t.by}${t.note ? ` (${t.note})` : ''}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`,
      );
      return;
    case 'escalated':
      logger.info(
        { ...fields, fromTier: t.fromTier, why: t.why, ...(t.by === undefined ? {} : { by: t.by }) },
        `${t.number} escalated from ${t.fromTier} to ${t.incident.tier}${t.by === undefined ? '' : ` by ${t.by}`}: ${about(t.incident)}, ${t.incident.severity}${t.why ? `: ${t.why}` : ''}`,
      );
      return;
    case 'resolved':
      logger.info({ ...fields, by: t.by, why: t.why }, `${t.number} resolved by ${t.by}${i ? `: ${about(i)}` : ''}: ${t.why}`);
      return;
  }
}
