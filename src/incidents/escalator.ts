// The escalation sweep (which also closes incidents resolved long enough ago): every `sweepIntervalMs` it reads the incidents whose stored timer is due,
// lets `evaluate` decide (announce after maintenance, SLA breaches, climb a tier) and writes the
// decision back with a compare-and-set. Timers live in the store, so a restart loses none; the
// compare-and-set means that of several instances sweeping at once only one applies each decision.
import type { Severity, Tier } from '../domain/classification.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { EscalationState, Incident } from '../domain/incident.js';
import { compileSilence, subjectOf, type Silence } from '../domain/silence.js';
import type { IncidentFilter, IncidentStore } from '../store/types.js';
import { evaluate, type EscalationContext } from './escalation.js';
import { briefOf, logTransition } from './transition-log.js';

export interface EscalatorHooks {
  escalated?(tier: Tier, severity: Severity): void;
  /** An SLA was breached while `tier` was responsible for the incident of `tenant`. */
  breached?(sla: 'ack' | 'resolve', severity: Severity, tier: Tier, tenant: string): void;
  /** Outbox events were written (wire to Outbox.kick). */
  notified?(events: number): void;
}

export interface EscalatorOptions {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  /** Read at every sweep, so a config reload takes effect at the next one. */
  context: () => EscalationContext;
  hooks?: EscalatorHooks;
  /** Incidents read per round; default 100. */
  batchSize?: number;
  /** Resolved incidents are closed this long after their resolution (read at every sweep); null: never. */
  closeAfterMs?: () => number | null;
  /** Incidents were closed. */
  onClosed?: (numbers: string[]) => void;
}

/** Rounds per sweep at most: a daemon that was down long catches up over a few sweeps, not in one burst. */
const MAX_ROUNDS = 50;

export class Escalator {
  private timer: TimerHandle | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;
  private readonly batchSize: number;
  private readonly log: Logger;

  constructor(private readonly opts: EscalatorOptions) {
    this.batchSize = opts.batchSize ?? 100;
    this.log = opts.logger.child({ component: 'escalator' });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * Applies everything due at the clock's now; returns how many decisions were applied. A store
   * error ends the sweep (logged); the timers are still stored, the next sweep picks them up.
   */
  async sweep(): Promise<number> {
    const run = this.sweepOnce();
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = null;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      void this.sweep()
        .catch((err: unknown) => this.log.error({ err }, 'escalation sweep failed; timers stay stored and are retried'))
        .finally(() => this.schedule(this.opts.context().policy.sweepIntervalMs));
    }, delayMs);
  }

  private async sweepOnce(): Promise<number> {
    const applied = await this.escalate();
    await this.close();
    return applied;
  }

  /** ITIL's last step: resolved long enough ago, the incident is closed (and never reopens). */
  private async close(): Promise<void> {
    const after = this.opts.closeAfterMs?.() ?? null;
    if (after === null) return;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.opts.clock.now();
      const closed = await this.opts.store.closeResolved(now - after, now, 500);
      if (closed.length > 0) this.opts.onClosed?.(closed);
      if (closed.length < 500) return;
    }
  }

  private async escalate(): Promise<number> {
    const { store, clock, hooks } = this.opts;
    let applied = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      const due = await store.dueEscalations(now, this.batchSize);
      if (due.length === 0) break;
      const ctx = this.opts.context();
      let changed = 0;
      let events = 0;
      for (const inc of due) {
        const r = await this.decide(inc, now, ctx, false);
        if (r === null) continue; // another instance or a change got there first; it is re-read if still due
        changed += 1;
        events += r;
      }
      applied += changed;
      if (events > 0) hooks?.notified?.(events);
      // Nothing applied: what is left is another instance's or waits for a change; stop here.
      if (changed === 0) break;
    }
    return applied;
  }
  /**
   * A silence was created or expired: the active incidents of its tenant that it matches (or held
   * back) are looked at now, with the same decision the sweep makes when their timer is due, so an
   * incident shows as silenced (or released) at once instead of at its next timer. Written through
   * the same compare-and-set; returns how many changed.
   */
  async applySilence(silence: Silence): Promise<number> {
    const { store, clock, hooks } = this.opts;
    const matcher = compileSilence(silence);
    // Most silences name one target: only its incidents are read then.
    const exact = silence.matchers.find((m) => m.name === 'target' && m.op === '=');
    const filter: IncidentFilter = { tenant: [silence.tenant], status: ['open', 'acknowledged'], ...(exact ? { target: exact.value } : {}) };
    const concerned: Incident[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.list(filter, 500, cursor);
      for (const inc of page.items) {
        if (inc.escalation.silencedBy.includes(silence.id) || matcher.matches(subjectOf(inc))) concerned.push(inc);
      }
      cursor = page.next;
    } while (cursor !== null);
    const now = clock.now();
    const ctx = this.opts.context();
    let applied = 0;
    let events = 0;
    for (const inc of concerned) {
      const r = await this.decide(inc, now, ctx, true);
      if (r === null) continue;
      applied += 1;
      events += r;
    }
    if (events > 0) hooks?.notified?.(events);
    return applied;
  }

  /**
   * Evaluates one incident at `now` and writes the decision with a compare-and-set; null when
   * nothing was written (lost the race, or `skipNoop` and the decision changes nothing), else the
   * outbox events written.
   */
  private async decide(inc: Incident, now: number, ctx: EscalationContext, skipNoop: boolean): Promise<number | null> {
    const { store, hooks } = this.opts;
    let d: ReturnType<typeof evaluate>;
    try {
      d = evaluate(inc, now, ctx);
    } catch (err) {
      // E.g. a business-hours calendar that never opens: say so, and go on with the others.
      this.log.error({ err, incident: inc.number }, 'cannot evaluate escalation; check the escalation config');
      return null;
    }
    if (skipNoop && d.event === null && d.timeline.length === 0 && d.tier === inc.tier && sameEscalation(d.escalation, inc.escalation)) return null;
    const r = await store.applyEscalation(inc.number, {
      at: now,
      expect: { nextTimerAt: inc.escalation.nextTimerAt, status: inc.status, severity: inc.severity, tier: inc.tier },
      tier: d.tier,
      escalation: d.escalation,
      timeline: d.timeline,
      announce: d.event,
    });
    if (!r.applied) return null;
    if (d.event?.type === 'incident.escalated' && d.tier !== inc.tier) hooks?.escalated?.(d.tier, inc.severity);
    for (const b of d.breaches) hooks?.breached?.(b, inc.severity, inc.tier, inc.tenant);
    if (d.event?.type === 'incident.escalated' && d.tier !== inc.tier) {
      logTransition(this.log, { event: 'escalated', number: inc.number, incident: { ...briefOf(inc), tier: d.tier }, fromTier: inc.tier, why: d.event.message });
    } else if (d.event) {
      // An opening announced when its maintenance window ended, or a notice at the top tier.
      this.log.info(
        { event: d.event.type, incident: inc.number, title: inc.title, target: inc.target.id, severity: inc.severity, tier: d.tier, why: d.event.message },
        `${inc.number} ${d.event.type === 'incident.opened' ? 'announced' : 'escalation notice'}: "${inc.title}" on ${inc.target.name}, tier ${d.tier}: ${d.event.message}`,
      );
    }
    return r.events.length;
  }
}

function sameEscalation(a: EscalationState, b: EscalationState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
