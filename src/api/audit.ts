// GET /api/v1/audit: the security events (sign-ins, failures, lockouts, sign-outs, single sign-on,
// account changes), newest first, a page at a time (`?limit=&cursor=` like the other lists). Admins only.
import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../store/types.js';
import { requires } from './auth.js';
import { parsePageQuery } from './validation.js';

export const AUDIT_PATH = '/api/v1/audit';

export function auditRoutes(deps: { store: AuditLog }): FastifyPluginAsync {
  return async (app) => {
    app.get(AUDIT_PATH, requires('audit.read'), async (request) => {
      const q = parsePageQuery(request.query);
      const page = await deps.store.listAudit(q.limit, q.cursor);
      return {
        items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        next: page.next,
      };
    });
  };
}
