// A real HTTP server on 127.0.0.1 that records every request and answers through a route function,
// for the helpdesk ticket channel tests (each test file plays one vendor with it).
import type http from 'node:http';
import { httpServer } from '../probe-kinds/helpers.js';

export interface Recorded {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when there was none. */
  body: any;
}

export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answer (the client's timeout has to end it). */
  | 'hang';

export interface VendorServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function vendorServer(route: (req: Recorded) => Reply | Promise<Reply>): Promise<VendorServer> {
  const requests: Recorded[] = [];
  const s = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rec: Recorded = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: raw === '' ? undefined : JSON.parse(raw),
      };
      requests.push(rec);
      void Promise.resolve(route(rec)).then((reply) => {
        if (reply === 'hang') return;
        const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res
          .writeHead(reply.status, {
            ...(typeof reply.body === 'string' ? { 'content-type': 'text/plain' } : { 'content-type': 'application/json' }),
            ...reply.headers,
          })
          .end(text);
      });
    });
  });
  return { port: s.port, url: `http://127.0.0.1:${s.port}`, requests, close: () => s.close() };
}

/** Stands in for the store: records a ticket channel's first reference the way the store will. */
export function recordTicket<T extends { tickets: Record<string, string> }>(incident: T, channelId: string, reference: string | undefined): T {
  if (reference === undefined || incident.tickets[channelId] !== undefined) return incident;
  return { ...incident, tickets: { ...incident.tickets, [channelId]: reference } };
}
