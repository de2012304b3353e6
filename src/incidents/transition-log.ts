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
export function logTransition(logger: Logger, t: IncidentTransition, level: 'info' | 'debug' = 'info'): void {
  const log = logger[level].bind(logger);
  const i = t.incident;
  const fields: Record<string, unknown> = { event: `incident.${t.event}`, incident: t.number };
  if (i) Object.assign(fields, { title: i.title, target: i.target.id, targetName: i.target.name, severity: i.severity, tier: i.tier });
  switch (t.event) {
    case 'opened':
      log(fields, `${t.number} ${t.event}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`);
      return;
    case 'reopened':
      if (t.by === undefined) {
        log(fields, `${t.number} ${t.event}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`);
      } else {
        log(
          { ...fields, by: t.by, why: t.why },
          `${t.number} reopened by ${t.by}${t.why ? ` (${t.why})` : ''}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`,
        );
      }
      return;
    case 'reclassified':
      log(
        { ...fields, by: t.by, why: t.why, fromSeverity: t.from.severity, fromImpact: t.from.impact, fromPriority: t.from.priority },
        `${t.number} reclassified by ${t.by} from ${t.from.severity}/${t.from.impact} (${t.from.priority}) to ${t.incident.severity}: ${about(t.incident)}: ${t.why}`,
      );
      return;
    case 'raised':
      log({ ...fields, from: t.from }, `${t.number} severity raised from ${t.from} to ${t.incident.severity}: ${about(t.incident)}`);
      return;
    case 'acknowledged':
      log(
        { ...fields, by: t.by, why: t.note },
        `${t.number} acknowledged by ${t.by}${t.note ? ` (${t.note})` : ''}: ${about(t.incident)}, ${t.incident.severity}, tier ${t.incident.tier}`,
      );
      return;
    case 'escalated':
      log(
        { ...fields, fromTier: t.fromTier, why: t.why, ...(t.by === undefined ? {} : { by: t.by }) },
        `${t.number} escalated from ${t.fromTier} to ${t.incident.tier}${t.by === undefined ? '' : ` by ${t.by}`}: ${about(t.incident)}, ${t.incident.severity}${t.why ? `: ${t.why}` : ''}`,
      );
      return;
    case 'resolved':
      log({ ...fields, by: t.by, why: t.why }, `${t.number} resolved by ${t.by}${i ? `: ${about(i)}` : ''}: ${t.why}`);
      return;
  }
}

/**
 * Lines of one kind (opened, resolved, ...) a commit logs one by one at info. A storm opens or
 * resolves thousands of incidents within seconds: past this many, the rest of that kind go to the
 * debug level and one info line counts them (a line costs ~6 µs to format, as much as a tenth of
 * what a new incident costs; and thousands of lines a second help nobody read the log).
 */
export const BATCH_INFO_LINES = 20;

/** The log lines of one commit's transitions: each at info up to BATCH_INFO_LINES of a kind, then a count. */
export function logTransitions(logger: Logger, transitions: readonly IncidentTransition[]): void {
  if (transitions.length <= BATCH_INFO_LINES) {
    for (const t of transitions) logTransition(logger, t);
    return;
  }
  const debug = logger.isLevelEnabled?.('debug') ?? true;
  const seen = new Map<IncidentTransition['event'], number>();
  const more = new Map<IncidentTransition['event'], { count: number; first: string; last: string; severities: Map<string, number> }>();
  for (const t of transitions) {
    const n = (seen.get(t.event) ?? 0) + 1;
    seen.set(t.event, n);
    if (n <= BATCH_INFO_LINES) {
      logTransition(logger, t);
      continue;
    }
    if (debug) logTransition(logger, t, 'debug');
    let m = more.get(t.event);
    if (m === undefined) more.set(t.event, (m = { count: 0, first: t.number, last: t.number, severities: new Map() }));
    m.count++;
    m.last = t.number;
    const severity = t.incident?.severity ?? 'unknown';
    m.severities.set(severity, (m.severities.get(severity) ?? 0) + 1);
  }
  for (const [event, m] of more) {
    const bySeverity = Object.fromEntries(m.severities);
    const counts = [...m.severities].map(([s, n]) => `${n} ${s}`).join(', ');
    logger.info(
      { event: `incident.${event}`, more: m.count, first: m.first, last: m.last, bySeverity },
      `${m.count} more incidents ${event} in the same commit (${m.first} to ${m.last}; ${counts}); each is logged at debug level`,
    );
  }
}
