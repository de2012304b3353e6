// The delivery worker of the notification outbox. Events are written to the store by the commit
// that caused them (a `notify` op); this worker claims due deliveries, hands each to its channel
// and records the outcome: delivered, retry later (exponential backoff with full jitter, or the
// receiver's Retry-After), or dead after a permanent refusal or `maxAttempts` tries.
//
// Delivery is at least once: a worker that dies between the channel's answer and recording it
// leaves a claim, and the delivery goes out again: at once when the same instance starts again
// (it takes back the claims of its own owner id), else when the claim runs out. The event id
// travels as the idempotency key, so a receiver drops that repeat; "nothing sent twice" rests on it.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { Incident } from '../domain/incident.js';
import type { Logger } from '../shared/logger.js';
import type { Delivery, DeliveryOutcome, IncidentStore } from '../store/types.js';
import type { Channel, DeliveryResult, IncidentEvent } from './types.js';
import { REPORT_MAIL_EVENT, REPORT_RECEIVED_EVENT } from '../domain/events.js';

export interface OutboxOptions {
  store: IncidentStore;
  /** The channels configured now, by id; read at every delivery, so a reload takes effect. */
  channels: () => ReadonlyMap<string, Channel>;
  clock: Clock;
  logger: Logger;
  /** Tries before a delivery is dead-lettered; default 8. */
  maxAttempts?: number;
  /** Upper bound of the first retry's delay, doubled per try; default 5 s. */
  baseDelayMs?: number;
  /** Upper bound of any retry's delay (and of a receiver's Retry-After); default 1 h. */
  maxDelayMs?: number;
  /** How long a claim protects a delivery from other instances; default 2 min. */
  leaseMs?: number;
  /** How long one channel call may take before it is cancelled (and retried); default 30 s. */
  deliveryTimeoutMs?: number;
  /** How often the store is polled for due deliveries besides kick(); default 5 s. */
  pollMs?: number;
  /** Deliveries claimed at a time; default 20. */
  batchSize?: number;
  /**
   * Names this instance's claims. The same on every start of one instance and different between
   * instances running at once (app.ts uses the intake journal's id): at start the outbox takes back
   * the claims its own previous run left (a kill -9) instead of waiting out their lease. Default
   * host:pid:random, which takes nothing back.
   */
  owner?: string;
  /** In [0, 1); the jitter source, replaceable in tests. Default Math.random. */
  random?: () => number;
  onDelivered?: (channel: string) => void;
  onRetry?: (channel: string) => void;
  onDead?: (channel: string) => void;
}

/** Outbox settings that cannot work together. */
export class OutboxConfigError extends IncidentdError {}

export class Outbox {
  private readonly store: IncidentStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly leaseMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly owner: string;
  private readonly random: () => number;
  private started = false;
  private stopping = false;
  /** The claims this owner held before this start have been taken back. */
  private ownClaimsReleased = false;
  private timer: TimerHandle | null = null;
  private draining: Promise<void> | null = null;
  /** A kick arrived during a drain: look again once it ends (the kick's commit may be newer). */
  private again = false;
  /** The last chain of deliveries in flight per channel and incident. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly opts: OutboxOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'outbox' });
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.baseDelayMs = opts.baseDelayMs ?? 5000;
    this.maxDelayMs = opts.maxDelayMs ?? 3_600_000;
    this.leaseMs = opts.leaseMs ?? 120_000;
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 5000;
    this.batchSize = opts.batchSize ?? 20;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.random = opts.random ?? Math.random;
    if (!(this.maxAttempts >= 1)) throw new OutboxConfigError(`outbox maxAttempts is ${this.maxAttempts}; it must be 1 or more`);
    if (!(this.baseDelayMs > 0) || this.maxDelayMs < this.baseDelayMs) {
      throw new OutboxConfigError(
        `outbox delays base ${this.baseDelayMs} ms / max ${this.maxDelayMs} ms: base must be positive and not above max`,
      );
    }
    // A claim that runs out while the channel is still busy lets another instance send it too.
    if (this.leaseMs <= this.deliveryTimeoutMs) {
      throw new OutboxConfigError(
        `outbox lease (${this.leaseMs} ms) must be longer than the delivery timeout (${this.deliveryTimeoutMs} ms)`,
      );
    }
  }

  /** Starts polling; the first look at the store happens at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.kick();
  }

  /**
   * Looks for due deliveries now (call it after a commit that wrote notify ops). Resolves when that
   * look, and the deliveries it found, are done. Never rejects.
   */
  kick(): Promise<void> {
    if (!this.started || this.stopping) return Promise.resolve();
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.timer?.cancel();
    this.timer = null;
    const run = this.drain().finally(() => {
      this.draining = null;
      this.schedule();
    });
    this.draining = run;
    return run;
  }

  /** Stops polling and waits for the deliveries in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    this.timer = null;
    await this.draining;
  }

  private schedule(): void {
    if (this.stopping || this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.kick();
    }, this.pollMs);
  }

  /**
   * Claims and delivers until nothing is due. A sliding window: whenever deliveries finish, more are
   * claimed, so one slow receiver (a ticket API that takes its whole timeout) holds up only its
   * own deliveries, not the next claim for every other channel.
   */
  private async drain(): Promise<void> {
    // Before the first claim: what this owner holds now was claimed by a run that died with it.
    if (!this.ownClaimsReleased) {
      try {
        const released = await this.store.releaseLeases(this.owner, this.clock.now());
        this.ownClaimsReleased = true;
        if (released > 0) this.log.info({ deliveries: released, owner: this.owner }, 'took back the deliveries this instance had claimed before it stopped');
      } catch (err) {
        this.log.warn({ err }, 'cannot take back the deliveries this instance claimed before it stopped; will try again');
        return;
      }
    }
    const inFlight = new Set<Promise<void>>();
    do {
      this.again = false;
      for (;;) {
        if (this.stopping) break;
        const room = this.batchSize - inFlight.size;
        let batch: Delivery[] = [];
        if (room > 0) {
          try {
            batch = await this.store.claimDeliveries(this.clock.now(), room, this.leaseMs, this.owner);
          } catch (err) {
            // The store is down: the next poll tries again, nothing is lost.
            this.log.warn({ err }, 'cannot claim notification deliveries; will try again');
            break;
          }
        }
        for (const chain of this.chains(batch)) {
          const p: Promise<void> = chain.then(() => void inFlight.delete(p));
          inFlight.add(p);
        }
        // Nothing more to claim now: finish what is in flight (its completions may free more).
        if (batch.length === 0 || batch.length < room) {
          if (inFlight.size === 0) break;
          await Promise.race(inFlight);
          continue;
        }
        await Promise.race(inFlight);
      }
    } while (this.again && !this.stopping);
    await Promise.all(inFlight);
  }

  /**
   * Deliveries to one channel about one incident go one after another, oldest first, so a
   * receiver does not see the resolution before the opening; the rest go in parallel. A delivery
   * claimed while an earlier one of its incident and channel is still in flight (two events of
   * the same instant: the store cannot hold the later one back) waits behind it.
   */
  private chains(batch: Delivery[]): Promise<void>[] {
    const groups = new Map<string, Delivery[]>();
    for (const d of batch) {
      const key = `${d.channelId}\u0000${d.event.number}`;
      const g = groups.get(key);
      if (g) g.push(d);
      else groups.set(key, [d]);
    }
    return [...groups].map(([key, g]) => {
      g.sort((a, b) => a.event.at - b.event.at || a.createdAt - b.createdAt);
      const before = this.inFlight.get(key) ?? Promise.resolve();
      const chain = before.then(async () => {
        for (const d of g) await this.deliverOne(d);
      });
      this.inFlight.set(key, chain);
      void chain.finally(() => {
        if (this.inFlight.get(key) === chain) this.inFlight.delete(key);
      });
      return chain;
    });
  }

  private async deliverOne(d: Delivery): Promise<void> {
    const result = await this.attempt(d);
    const now = this.clock.now();
    const log = this.log.child({ delivery: d.id, channel: d.channelId, incident: d.event.number, attempt: d.attempts });
    let outcome: DeliveryOutcome;
    let report: (() => void) | undefined;
    if (result.outcome === 'ok') {
      outcome = result.reference === undefined ? { delivered: true, at: now } : { delivered: true, at: now, reference: result.reference };
      report = () => this.opts.onDelivered?.(d.channelId);
      log.debug('notification delivered');
    } else if (result.outcome === 'permanent') {
      outcome = { dead: true, at: now, error: result.error };
      report = () => this.opts.onDead?.(d.channelId);
      log.warn({ error: result.error }, 'notification refused; dead-lettered');
    } else if (d.attempts >= this.maxAttempts) {
      outcome = { dead: true, at: now, error: `gave up after ${d.attempts} attempts; last: ${result.error}` };
      report = () => this.opts.onDead?.(d.channelId);
      log.warn({ error: result.error }, 'notification failed too often; dead-lettered');
    } else {
      const delay = this.retryDelay(d.attempts, result.retryAfterMs);
      outcome = { retryAt: now + delay, error: result.error };
      report = () => this.opts.onRetry?.(d.channelId);
      log.info({ error: result.error, retryInMs: delay }, 'notification failed; will retry');
    }
    try {
      // False: another instance finished it after our claim ran out; its record stands.
      if (await this.store.completeDelivery(d.id, outcome)) report();
    } catch (err) {
      // The claim runs out and the delivery is tried again; the idempotency key covers a repeat.
      log.warn({ err }, 'cannot record the outcome of a notification delivery; it will be tried again');
    }
  }

  /** Calls the channel with the incident as it is now; never throws. */
  private async attempt(d: Delivery): Promise<DeliveryResult> {
    const channel = this.opts.channels().get(d.channelId);
    if (!channel) {
      return { outcome: 'permanent', error: `channel "${d.channelId}" is not configured; add it back to deliver this event` };
    }
    if (d.event.type === REPORT_MAIL_EVENT) {
      // A report mail carries what it says; only a channel that sends mail can take it.
      if (d.event.mail === undefined) return { outcome: 'permanent', error: `report event ${d.event.id} carries no mail` };
      if (channel.deliverMail === undefined) return { outcome: 'permanent', error: `channel "${d.channelId}" is a ${channel.type} channel; a report mail needs an email channel` };
      const mail = d.event.mail;
      const send = channel.deliverMail.bind(channel);
      return this.call(d, (signal) => send(mail, d.event.id, signal));
    }
    if (d.event.type === REPORT_RECEIVED_EVENT) return this.attemptReceipt(d, channel);
    const found = await this.incidentOf(d);
    if ('outcome' in found) return found;
    const event: IncidentEvent = { id: d.event.id, type: d.event.type, at: d.event.at, incident: found };
    if (d.event.actor !== undefined) event.actor = d.event.actor;
    if (d.event.message !== undefined) event.message = d.event.message;
    if (d.event.tier !== undefined) event.tier = d.event.tier;
    return this.call(d, (signal) => channel.deliver(event, signal));
  }

  /** A reporter's receipt: only channels that mail people send it; the others have nothing to do. */
  private async attemptReceipt(d: Delivery, channel: Channel): Promise<DeliveryResult> {
    if (channel.deliverReceipt === undefined) return { outcome: 'ok' };
    const to = d.event.to ?? [];
    if (to.length === 0) return { outcome: 'permanent', error: `receipt ${d.event.id} names nobody to mail` };
    const found = await this.incidentOf(d);
    if ('outcome' in found) return found;
    const send = channel.deliverReceipt.bind(channel);
    return this.call(d, (signal) => send({ id: d.event.id, at: d.event.at, incident: found, to }, signal));
  }

  /** The incident a delivery is about, as it is now, or the outcome when it cannot be had. */
  private async incidentOf(d: Delivery): Promise<Incident | DeliveryResult> {
    try {
      const incident = await this.store.get(d.event.number);
      return incident ?? { outcome: 'permanent', error: `incident ${d.event.number} no longer exists` };
    } catch (err) {
      return { outcome: 'retryable', error: `cannot load incident ${d.event.number}: ${(err as Error).message}` };
    }
  }

  /** Runs one send under the delivery timeout; a channel that throws anyway is treated as a passing fault. */
  private async call(d: Delivery, send: (signal: AbortSignal) => Promise<DeliveryResult>): Promise<DeliveryResult> {
    try {
      // A real timer: it bounds I/O with the receiver, not scheduling logic.
      return await send(AbortSignal.timeout(this.deliveryTimeoutMs));
    } catch (err) {
      // Channels classify their failures.
      return { outcome: 'retryable', error: `channel "${d.channelId}" failed: ${(err as Error).message}` };
    }
  }

  /**
   * Full jitter: uniformly up to base·2^(attempt-1), capped at maxDelayMs. A receiver's Retry-After
   * wins (capped too). At least a tenth of the base, so a retry never spins at once.
   */
  private retryDelay(attempts: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(this.maxDelayMs, Math.max(retryAfterMs, 1));
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempts - 1, 52));
    return Math.max(Math.ceil(this.baseDelayMs / 10), Math.floor(this.random() * cap));
  }
}
