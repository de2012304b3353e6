// GET /api/v1/incidents/:number/explanation: why the incident was classified as it is, like
// `incidentd rules explain` — the rules as loaded now, run against the signal the incident keeps
// (source, target, check, labels, last message). It says plainly when today's rules would classify
// that signal differently (another rule, another severity), e.g. after a rule was edited.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Classification } from '../domain/classification.js';
import type { Incident } from '../domain/incident.js';
import { isoTime } from '../domain/serialize.js';
import type { Signal } from '../domain/signal.js';
import type { Explanation, RuleEngine } from '../rules/types.js';
import { requires } from './auth.js';
import { parseNumberParam } from './validation.js';

export interface ExplanationRoutesDeps {
  /** The rules as loaded now (a reload replaces them). */
  rules: () => RuleEngine;
  /** The incident if the request may see it; throws IncidentNotFoundError otherwise (another tenant's too). */
  visibleIncident: (request: FastifyRequest, number: string) => Promise<Incident>;
}

const COMPARED = ['category', 'severity', 'impact', 'priority', 'tier'] as const;

export interface ApiExplanation {
  number: string;
  /** The rule that classified the incident when it opened. */
  ruleId: string;
  /** What the incident keeps of the signal that opened it (and its last message). */
  signal: { source: string; target: { id: string; kind: string; name: string; site: string }; check: { name: string; type: string }; message: string; labels: Record<string, string>; at: string };
  /** Parts of the signal that are not stored with an incident; conditions on them see none. */
  notStored: string[];
  /** Every rule looked at, in order, with why it did or did not match. */
  trace: Explanation['trace'];
  shadowed: Explanation['shadowed'];
  /** No rule matches now: the uncategorized default applies. */
  usedDefault: boolean;
  /** What the rules as loaded now make of the signal (the first match). */
  now: { ruleId: string; classification: Classification; title: string } | null;
  /** The rule that matches now is the one that classified the incident. */
  sameRule: boolean;
  /** Where the incident differs from what the rule gives now (a rule edited since, or a person's change). */
  differences: { field: (typeof COMPARED)[number]; incident: string; now: string }[];
}

/** The signal the incident keeps, as the rules engine takes it. */
export function storedSignal(incident: Incident): Signal {
  return {
    source: incident.source,
    target: { ...incident.target, labels: { ...incident.target.labels }, dependsOn: [], tenant: incident.tenant },
    check: { ...incident.check },
    status: 'fail',
    message: incident.lastMessage,
    values: {},
    labels: { ...incident.labels },
    annotations: {},
    at: incident.lastSeen,
  };
}

export function explainIncident(incident: Incident, engine: RuleEngine): ApiExplanation {
  const signal = storedSignal(incident);
  const ex = engine.explain(signal);
  const first = ex.matches[0];
  const now = first === undefined ? null : { ruleId: first.ruleId, classification: first.classification, title: first.title };
  const differences: ApiExplanation['differences'] = [];
  if (first !== undefined) {
    for (const field of COMPARED) {
      if (incident[field] !== first.classification[field]) differences.push({ field, incident: incident[field], now: first.classification[field] });
    }
  }
  return {
    number: incident.number,
    ruleId: incident.ruleId,
    signal: {
      source: signal.source,
      target: { id: signal.target.id, kind: signal.target.kind, name: signal.target.name, site: signal.target.site },
      check: signal.check,
      message: signal.message,
      labels: signal.labels,
      at: isoTime(signal.at),
    },
    notStored: ['values', 'annotations'],
    trace: ex.trace,
    shadowed: ex.shadowed,
    usedDefault: ex.usedDefault,
    now,
    sameRule: now !== null && now.ruleId === incident.ruleId,
    differences,
  };
}

export function explanationRoutes(deps: ExplanationRoutesDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/api/v1/incidents/:number/explanation', requires('incidents.read'), async (request: FastifyRequest<{ Params: { number: string } }>) => {
      const number = parseNumberParam(request.params.number);
      return explainIncident(await deps.visibleIncident(request, number), deps.rules());
    });
  };
}
