// The web portal: the files Vite built into dist/portal/, served on the API's port with
// @fastify/send. Hashed files under /assets/ are cached for a year (a new build has new names);
// index.html is revalidated on every load so a new build is picked up. Every other GET of a page
// that is not the API's (/status/acme, /incidents/INC-000001) answers index.html, and the portal's
// router shows the page. The files hold no data: everything the pages show comes from the API,
// with its permissions, so these routes are PUBLIC. Brotli and gzip copies (.br, .gz) written by
// the build are sent to browsers that accept them.
//
// The sending is what @fastify/static (serve: false, preCompressed, no index) did, minus what the
// portal never uses (directory lists, redirects, several roots): that plugin loads glob and more
// at start-up, about 1.5 MB of heap with @fastify/send. @fastify/send and the encoding negotiator
// load with the first request of a portal file instead, so a daemon nobody opens the portal of
// never loads them.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type * as Send from '@fastify/send';
import type * as Negotiate from '@fastify/accept-negotiator';
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
  const sendFile = portalSender(opts.root);

  const sendIndex = (request: FastifyRequest, reply: FastifyReply) => {
    // no-cache: the browser asks again each time (an ETag answer is cheap) and sees a new build.
    reply.header('cache-control', 'no-cache');
    return sendFile(request, reply, 'index.html', { cacheControl: false });
  };

  app.get('/', ROUTE, (request, reply) => sendIndex(request, reply));
  app.get<{ Params: { '*': string } }>('/assets/*', ROUTE, (request, reply) => {
    return sendFile(request, reply, `assets/${request.params['*']}`, { maxAge: YEAR_S * 1000, immutable: true });
  });

  return (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    // A missing asset or API route is a 404, never the page (a script answered with HTML breaks).
    if (isApiOrOps(path) || path.startsWith('/assets/')) return false;
    void sendIndex(request, reply);
    return true;
  };
}

interface SendModules {
  send: typeof Send.default;
  negotiate: typeof Negotiate.negotiate;
}

let modules: SendModules | undefined;

/** @fastify/send and the negotiator, required on the first portal request (see the top). */
function sendModules(): SendModules {
  if (modules === undefined) {
    const require = createRequire(import.meta.url);
    const send = require('@fastify/send') as typeof Send.default;
    // As @fastify/static sets it: a file of unknown type is sent as bytes.
    (send.mime as unknown as { default_type: string }).default_type = 'application/octet-stream';
    modules = { send, negotiate: (require('@fastify/accept-negotiator') as typeof Negotiate).negotiate };
  }
  return modules;
}

/** Pre-compressed copies the build writes, by content-coding; deflate is negotiated but has none. */
const ENCODINGS = ['br', 'gzip', 'deflate'] as const;
const EXTENSION: Partial<Record<string, string>> = { br: '.br', gzip: '.gz' };

/**
 * reply.sendFile of @fastify/static for one root: the file under `root`, or its .br / .gz copy
 * with the original's content type when the browser accepts that coding; a missing file (or copy
 * of none) calls the not-found handler; other errors of send (403 for a path out of the root, 400
 * for a bad one) are sent as they are. Returns the reply, which the file is sent on.
 */
function portalSender(root: string) {
  const pump = async (request: FastifyRequest, reply: FastifyReply, pathname: string, options: Send.SendOptions, checked: Set<string>): Promise<void> => {
    const { send, negotiate } = sendModules();
    const accept = request.headers['accept-encoding'];
    // '*' (no preference) counts as gzip, as @fastify/static has it.
    const encoding = accept === undefined ? null : negotiate(accept.toLowerCase().replace(/\*/g, 'gzip'), ENCODINGS.filter((e) => !checked.has(e)));
    // A folder has no copy: with no index file that is a 404 (without a coding, send's 403).
    if (encoding !== null && pathname.endsWith('/')) return void reply.callNotFound();
    const forSend = encoding === null ? pathname : `${pathname}${EXTENSION[encoding]}`;
    // send URI-decodes the path, so it gets an encoded one.
    const result = await send(request.raw, encodeURI(forSend), { root, dotfiles: 'allow', index: false, ...options });
    if (result.type === 'directory') return void reply.callNotFound();
    if (result.type === 'error') {
      const error = result.metadata.error as Error & { code?: string; status?: number };
      // No such copy: try the next coding the browser accepts, then the file itself.
      if (error.code === 'ENOENT' && encoding !== null && !checked.has(encoding)) {
        checked.add(encoding);
        return pump(request, reply, pathname, options, checked);
      }
      if (error.code === 'ENOENT' || error.status === 404) return void reply.callNotFound();
      return void (await reply.send(error));
    }
    reply.code(reply.statusCode !== 200 ? reply.statusCode : result.statusCode);
    reply.headers(result.headers);
    if (encoding !== null) {
      reply.header('content-type', contentType(send, pathname));
      reply.header('content-encoding', encoding);
    }
    await reply.send(result.stream);
  };

  return (request: FastifyRequest, reply: FastifyReply, pathname: string, options: Send.SendOptions): FastifyReply => {
    // @fastify/static left a failure here unhandled (the process would stop); it is the request's error instead.
    pump(request, reply, pathname, options, new Set()).catch((err: unknown) => reply.send(err));
    return reply;
  };
}

/** The content type of the uncompressed file, as send gives it. */
function contentType(send: typeof Send.default, path: string): string {
  const type = send.mime.getType(path) ?? (send.mime as unknown as { default_type: string }).default_type;
  return send.isUtf8MimeType(type) ? `${type}; charset=utf-8` : type;
}
