// The web portal: the files Vite built into dist/portal/, served on the API's port with
// @fastify/static. Hashed files under /assets/ are cached for a year (a new build has new names);
// index.html is revalidated on every load so a new build is picked up. Every other GET of a page
// that is not the API's (/status/acme, /incidents/INC-000001) answers index.html, and the portal's
// router shows the page. The files hold no data: everything the pages show comes from the API,
// with its permissions, so these routes are PUBLIC. Brotli and gzip copies (.br, .gz) written by
// the build are sent to browsers that accept them.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PUBLIC } from './auth.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** dist/portal/: next to dist/src/ when this file runs compiled, under dist/ when it runs from src/ (tsx, tests). */
export const DEFAULT_PORTAL_ROOT = basename(resolve(HERE, '../..')) === 'dist' ? resolve(HERE, '../../portal') : resolve(HERE, '../../dist/portal');

export interface PortalOptions {
  /** The directory holding index.html and assets/. */
  root: string;
}

/** The routes of the portal's files: outside the API, so the OpenAPI document leaves them out. */
export const PORTAL_ROUTES = ['GET /', 'GET /assets/*'] as const;

const ROUTE = { config: { ...PUBLIC.config, undocumented: true as const } };
const YEAR_S = 365 * 24 * 3600;

function isApiOrOps(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/metrics' || path === '/healthz' || path === '/readyz';
}

/** Whether the portal has been built into `root`. */
export function portalBuilt(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/**
 * Registers the portal's routes and answers the fallback for the not-found handler: true when it
 * sent index.html for a page of the portal, false when the request is not one (an API path, a
 * missing asset, a POST) and the JSON 404 applies.
 */
export function registerPortal(app: FastifyInstance, opts: PortalOptions): (request: FastifyRequest, reply: FastifyReply) => boolean {
  // serve: false: only reply.sendFile; the routes below declare their access for the guard.
  void app.register(fastifyStatic, { root: opts.root, serve: false, preCompressed: true, index: false });

  const sendIndex = (reply: FastifyReply) => {
    // no-cache: the browser asks again each time (an ETag answer is cheap) and sees a new build.
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { cacheControl: false });
  };

  app.get('/', ROUTE, (_request, reply) => sendIndex(reply));
  app.get<{ Params: { '*': string } }>('/assets/*', ROUTE, (request, reply) => {
    return reply.sendFile(`assets/${request.params['*']}`, { maxAge: YEAR_S * 1000, immutable: true });
  });

  return (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    // A missing asset or API route is a 404, never the page (a script answered with HTML breaks).
    if (isApiOrOps(path) || path.startsWith('/assets/')) return false;
    void sendIndex(reply);
    return true;
  };
}
