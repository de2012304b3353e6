// GET /api/v1/events: server-sent events about incidents, for the portal's live views. One
// `incident` event per committed change of an incident the caller may see (the same tenant scope as
// the list), carrying `{ number, tenant, status, change, at }` and nothing else: the client
// refetches what it shows through the API. A comment line every HEARTBEAT_MS keeps proxies from
// closing an idle stream. Streams per person (or token) and per address are capped (429): each
// holds a connection open. A stream ends after MAX_STREAM_MS and the browser's EventSource opens
// a new one, signed in again: a session that ended or an account disabled stops there.
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { IncidentChange, IncidentChangeSink } from '../domain/incident-change.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import { isoTime } from '../domain/serialize.js';
import { mayAccess } from '../domain/tenant-scope.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { requires } from './auth.js';

export const EVENTS_PATH = '/api/v1/events';

const HEARTBEAT_MS = 25_000;
const MAX_STREAM_MS = 15 * 60_000;
const MAX_PER_PRINCIPAL = 8;
const MAX_PER_ADDRESS = 32;
/** A client that reads slower than this much piles up is dropped; its EventSource reconnects. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** How soon a browser reconnects after the stream ends (the SSE `retry` field). */
const RETRY_MS = 3000;

export interface EventHubOptions {
  clock: Clock;
  heartbeatMs?: number;
  maxStreamMs?: number;
  maxPerPrincipal?: number;
  maxPerAddress?: number;
}

interface Stream {
  out: PassThrough;
  scope: TenantScope;
  who: string;
  address: string;
  ends: TimerHandle;
}

/** Why a stream was not opened: the 429's message. */
export interface StreamRefused {
  refused: string;
}

/** The open event streams; what the daemon publishes incident changes to. */
export class IncidentEventHub implements IncidentChangeSink {
  private readonly streams = new Set<Stream>();
  private heartbeat: TimerHandle | null = null;
  private readonly heartbeatMs: number;
  private readonly maxStreamMs: number;
  private readonly maxPerPrincipal: number;
  private readonly maxPerAddress: number;

  constructor(private readonly opts: EventHubOptions) {
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.maxStreamMs = opts.maxStreamMs ?? MAX_STREAM_MS;
    this.maxPerPrincipal = opts.maxPerPrincipal ?? MAX_PER_PRINCIPAL;
    this.maxPerAddress = opts.maxPerAddress ?? MAX_PER_ADDRESS;
  }

  get watching(): boolean {
    return this.streams.size > 0;
  }

  /** How many streams are open. */
  count(): number {
    return this.streams.size;
  }

  publish(change: IncidentChange): void {
    if (this.streams.size === 0) return;
    const data = { number: change.number, tenant: change.tenant, status: change.status, change: change.change, at: isoTime(change.at) };
    const frame = `event: incident\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of this.streams) {
      if (mayAccess(s.scope, change.tenant)) this.write(s, frame);
    }
  }

  /** Opens a stream for the principal, or says why not (too many open already). */
  open(principal: Principal, address: string): PassThrough | StreamRefused {
    const who = `${principal.kind}:${principal.id}`;
    let mine = 0;
    let fromAddress = 0;
    for (const s of this.streams) {
      if (s.who === who) mine++;
      if (s.address === address) fromAddress++;
    }
    const label = principal.kind === 'user' ? `user "${principal.name}"` : `token "${principal.name}"`;
    if (mine >= this.maxPerPrincipal) {
      return { refused: `${label} has ${mine} live event streams open already (at most ${this.maxPerPrincipal}); close a portal tab, or try again when one has ended` };
    }
    if (fromAddress >= this.maxPerAddress) {
      return { refused: `${address} has ${fromAddress} live event streams open already (at most ${this.maxPerAddress}); close some, or try again when one has ended` };
    }
    const out = new PassThrough();
    const stream: Stream = { out, scope: principal.tenants, who, address, ends: this.opts.clock.setTimeout(() => out.end(), this.maxStreamMs) };
    this.streams.add(stream);
    // Whoever ends it (the client going away destroys it, stop() and the time limit end it).
    out.once('close', () => this.forget(stream));
    // The first bytes send the headers at once, so the client knows it is connected.
    out.write(`retry: ${RETRY_MS}\n: connected\n\n`);
    this.heartbeat ??= this.opts.clock.setTimeout(() => this.beat(), this.heartbeatMs);
    return out;
  }

  /** Ends every stream (the daemon stops): each response finishes, so closing the server does not wait for them. */
  closeAll(): void {
    for (const s of [...this.streams]) {
      s.out.end();
      this.forget(s);
    }
  }

  private forget(s: Stream): void {
    if (!this.streams.delete(s)) return;
    s.ends.cancel();
    if (this.streams.size === 0) {
      this.heartbeat?.cancel();
      this.heartbeat = null;
    }
  }

  private beat(): void {
    this.heartbeat = null;
    if (this.streams.size === 0) return;
    for (const s of this.streams) this.write(s, ': heartbeat\n\n');
    this.heartbeat = this.opts.clock.setTimeout(() => this.beat(), this.heartbeatMs);
  }

  private write(s: Stream, frame: string): void {
    if (s.out.writableLength > MAX_BUFFERED_BYTES) {
      s.out.destroy();
      return;
    }
    s.out.write(frame);
  }
}

export interface EventRoutesDeps {
  hub: IncidentEventHub;
  sendError: (reply: FastifyReply, status: number, message: string) => FastifyReply;
}

export function eventRoutes(deps: EventRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    app.get(EVENTS_PATH, requires('incidents.read'), async (request, reply) => {
      const opened = deps.hub.open(request.principal!, request.ip);
      if ('refused' in opened) {
        reply.header('retry-after', '30');
        return deps.sendError(reply, 429, opened.refused);
      }
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        // nginx and similar proxies pass each event on at once instead of buffering.
        .header('x-accel-buffering', 'no')
        // Its socket closes with it: a stream's end (stop, time limit) leaves no idle connection behind.
        .header('connection', 'close')
        .send(opened);
    });
  };
}
