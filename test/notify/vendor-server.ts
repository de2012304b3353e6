// A real HTTP (or HTTPS) server on 127.0.0.1 that records every request and answers through a route
// function, for the helpdesk ticket channel tests (each test file plays one vendor with it).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../probe-kinds/helpers.js';
import { selfSignedCert, type TlsKeyPair } from '../probe-kinds/mail-servers.js';

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
  /** `http://127.0.0.1:<port>`, or `https://…` with a certificate. */
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** `opts.tls`: serve HTTPS with this key and certificate (e.g. selfSignedCert()). */
export async function vendorServer(route: (req: Recorded) => Reply | Promise<Reply>, opts: { tls?: TlsKeyPair | undefined } = {}): Promise<VendorServer> {
  const requests: Recorded[] = [];
  const handler: http.RequestListener = (req, res) => {
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
  };
  const s = await serve(opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler));
  return { port: s.port, url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${s.port}`, requests, close: () => s.close() };
}

/** Stands in for the store: records a ticket channel's first reference the way the store will. */
export function recordTicket<T extends { tickets: Record<string, string> }>(incident: T, channelId: string, reference: string | undefined): T {
  if (reference === undefined || incident.tickets[channelId] !== undefined) return incident;
  return { ...incident, tickets: { ...incident.tickets, [channelId]: reference } };
}

export interface TestCa {
  /** Key and self-signed certificate for 127.0.0.1, ::1 and localhost. */
  tls: TlsKeyPair;
  /** The certificate as a PEM file, for a channel's ca_file. */
  caFile: string;
  remove(): void;
}

/** A self-signed certificate (made with openssl) and its PEM file in a fresh temporary directory. */
export function testCa(): TestCa {
  const tls = selfSignedCert();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-ticket-tls-'));
  const caFile = path.join(dir, 'helpdesk-ca.pem');
  fs.writeFileSync(caFile, tls.cert);
  return { tls, caFile, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
