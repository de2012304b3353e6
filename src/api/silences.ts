// The silences API: GET /api/v1/silences, POST /api/v1/silences, DELETE /api/v1/silences/:id
// (expire). Same bearer tokens and JSON errors as the incidents API (server.ts authenticates and
// maps the errors); who created a silence is the token's name unless the body says otherwise.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  buildSilence,
  InvalidSilenceError,
  SILENCE_STATES,
  silenceInputSchema,
  silenceToApi,
  type Silence,
  type SilenceState,
} from '../domain/silence.js';
import type { Clock } from '../shared/clock.js';
import { parseDuration } from '../shared/duration.js';
import type { SilenceStore } from '../store/types.js';
import { decodeSilenceCursor, encodeSilenceCursor, pageFrom } from '../domain/paging.js';
import { BadRequestError, cursor, limit, MAX_LIMIT, type RequestIssue } from './validation.js';
import { requires } from './auth.js';
import { requestScope } from './tenant-scope.js';
import { mayAccess, visibleTenants } from '../domain/tenant-scope.js';
import { DEFAULT_TENANT, type TenantScope } from '../domain/principal.js';

export interface SilenceRoutesDeps {
  store: SilenceStore;
  clock: Clock;
  /**
   * A silence was created or expired: refresh the ones in force and apply it to the incidents it
   * matches before answering, so they show as silenced (or released) at once.
   */
  changed: (silence: Silence) => Promise<void>;
  /**
   * The tenants a silence may be for (read on every request: a reload changes them); absent: any.
   * A silence for a tenant that does not exist would hold back nothing, silently.
   */
  tenants?: () => readonly string[];
}

/**
 * The tenant a new silence belongs to: the one the body names, or the request's only tenant, or
 * (for a request that sees every tenant) the default tenant. A tenant the request does not see is
 * refused with the same words as one that does not exist.
 */
function silenceTenant(scope: TenantScope, asked: string | undefined, known: readonly string[] | null): string {
  if (asked !== undefined) {
    if (!mayAccess(scope, asked) || (known !== null && !known.includes(asked))) throw new BadRequestError([{ field: 'tenant', message: `no tenant "${asked}" you may silence` }]);
    return asked;
  }
  if (scope.all) return DEFAULT_TENANT;
  if (scope.tenants.length === 1) return scope.tenants[0]!;
  if (scope.tenants.length === 0) throw new BadRequestError([{ field: 'tenant', message: 'you may silence no tenant' }]);
  throw new BadRequestError([{ field: 'tenant', message: `say which tenant the silence is for: one of ${scope.tenants.join(', ')}` }]);
}

export const silenceListQuery = z.strictObject({
  state: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .pipe(z.array(z.enum(SILENCE_STATES as [SilenceState, ...SilenceState[]], { error: `must be one of ${SILENCE_STATES.join(', ')}` })))
    .optional(),
  limit: limit.meta({ description: `Silences per page, at most ${MAX_LIMIT} (the default)` }).optional(),
  cursor: cursor.meta({ description: 'The `next` of the previous page, with the same states' }).optional(),
});

function issuesOf(error: z.ZodError, what: 'query' | 'body'): RequestIssue[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const allowed = what === 'query' ? 'state, limit, cursor' : 'matchers, startsAt, endsAt, duration, createdBy, comment, tenant';
      return { field: what, message: `unknown ${what === 'query' ? 'parameter' : 'field'}${i.keys.length === 1 ? '' : 's'} ${i.keys.join(', ')}; allowed: ${allowed}` };
    }
    const parts = what === 'query' ? i.path.slice(0, 1) : i.path;
    const path = parts.map((p) => (typeof p === 'number' ? `[${String(p)}]` : String(p))).join('.').replace(/\.\[/g, '[');
    return { field: path === '' ? what : path, message: i.message };
  });
}

export function silenceRoutes(deps: SilenceRoutesDeps & { actorOf: (request: FastifyRequest) => string }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/api/v1/silences', requires('silences.read'), async (request) => {
      const q = silenceListQuery.safeParse(request.query ?? {});
      if (!q.success) throw new BadRequestError(issuesOf(q.error, 'query'));
      // Every page of one listing judges the states at the time of its first page.
      const after = q.data.cursor ? decodeSilenceCursor(q.data.cursor) : null;
      const now = after?.at ?? deps.clock.now();
      const size = q.data.limit ?? MAX_LIMIT;
      // One more than the page, only to tell whether another page follows.
      // A cursor only says where the previous page ended; the scope is applied again on every page.
      const tenants = visibleTenants(requestScope(request), undefined);
      const rows = await deps.store.listSilences(q.data.state ?? [], now, size + 1, after, tenants ?? undefined);
      const page = pageFrom(rows, size, (last) => encodeSilenceCursor({ at: now, endsAt: last.endsAt, id: last.id }));
      return { items: page.items.map((s) => silenceToApi(s, now)), next: page.next };
    });

    app.post('/api/v1/silences', requires('silences.write'), async (request, reply) => {
      const parsed = silenceInputSchema.safeParse(request.body);
      if (!parsed.success) throw new BadRequestError(issuesOf(parsed.error, 'body'));
      const now = deps.clock.now();
      let silence;
      try {
        const tenant = silenceTenant(requestScope(request), parsed.data.tenant, deps.tenants?.() ?? null);
        silence = buildSilence(parsed.data, { id: randomUUID(), now, createdBy: deps.actorOf(request), tenant, parseDuration });
      } catch (err) {
        if (err instanceof InvalidSilenceError) throw new BadRequestError(err.issues);
        throw err;
      }
      await deps.store.createSilence(silence);
      await deps.changed(silence);
      return reply.code(201).send(silenceToApi(silence, now));
    });

    app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', requires('silences.write'), async (request) => {
      const now = deps.clock.now();
      const tenants = visibleTenants(requestScope(request), undefined);
      const silence = await deps.store.expireSilence(request.params.id, now, tenants ?? undefined);
      await deps.changed(silence);
      return silenceToApi(silence, now);
    });
  };
}
