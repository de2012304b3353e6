// What a person decides about an incident besides acknowledging, resolving and commenting:
// POST /api/v1/incidents/:number/escalate, /severity and /reopen. Each names its action (checked
// by the guard in auth.ts), is scoped like every incident route (another tenant's incident answers
// 404 as missing) and records who did it and why; the decisions are the manager's (IncidentCommands).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { toApi } from '../domain/serialize.js';
import type { IncidentCommands } from '../incidents/types.js';
import { requires } from './auth.js';
import { parseEscalateBody, parseNumberParam, parseReclassifyBody, parseReopenBody } from './validation.js';

export interface IncidentActionRoutesDeps {
  commands: IncidentCommands;
  /** Who acts: the principal's name. */
  actorOf: (request: FastifyRequest) => string;
  /** Throws IncidentNotFoundError when the request may not see the incident (another tenant's). */
  mayChange: (request: FastifyRequest, number: string) => Promise<void>;
}

type NumberRequest = FastifyRequest<{ Params: { number: string } }>;

export function incidentActionRoutes(deps: IncidentActionRoutesDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    // To a higher tier, whose channels hear of it as of an escalation by the sweep.
    app.post('/api/v1/incidents/:number/escalate', requires('incidents.escalate'), async (request: NumberRequest) => {
      const number = parseNumberParam(request.params.number);
      const body = parseEscalateBody(request.body);
      await deps.mayChange(request, number);
      return toApi(await deps.commands.escalate(number, body.tier, deps.actorOf(request), body.reason), { withTimeline: true });
    });

    // Severity and/or impact; the priority follows.
    app.post('/api/v1/incidents/:number/severity', requires('incidents.change-severity'), async (request: NumberRequest) => {
      const number = parseNumberParam(request.params.number);
      const body = parseReclassifyBody(request.body);
      await deps.mayChange(request, number);
      const to = { severity: body.severity, impact: body.impact };
      return toApi(await deps.commands.reclassify(number, to, deps.actorOf(request), body.reason), { withTimeline: true });
    });

    app.post('/api/v1/incidents/:number/reopen', requires('incidents.reopen'), async (request: NumberRequest) => {
      const number = parseNumberParam(request.params.number);
      const reason = parseReopenBody(request.body);
      await deps.mayChange(request, number);
      return toApi(await deps.commands.reopen(number, deps.actorOf(request), reason), { withTimeline: true });
    });
  };
}
