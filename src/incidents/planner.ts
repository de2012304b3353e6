// The planner: turns one batch of classified signals into the store operations of one commit
// (open, repeat, reopen, resolve, flapping, dependency links, notifications, state writes) and
// keeps the per-fingerprint hysteresis state in memory. Everything about one batch lives in its
// BatchDraft, built and consumed by one call to plan(); nothing carries over to the next batch.
import { seriesKey, type Signal, type TargetRef } from '../domain/signal.js';
import type { IncidentPolicy } from '../config-core/types.js';
import type { RuleEngine } from '../rules/types.js';
import type { Logger } from '../shared/logger.js';
import type { FingerprintState, OpResult, StoreOp } from '../store/types.js';
import { DependencyIndex } from './dependency-index.js';
import type { EscalationContext } from './escalation.js';
import { FiringSeries } from './firing.js';
import { forgettable, newState, observe, StateMark } from './hysteresis.js';
import type { Severity } from '../domain/classification.js';
import { type BatchDraft, batchOps, coalesceRepeat, draftOf, type FailObservation, newDraft, pushFlapping } from './batch-draft.js';
import { announceFail, planOpeningHold } from './opening-hold.js';
import { type BatchOutcome, type BatchPlan, settleOutcome } from './outcome.js';
import { planRemovedChecks, type ProbeCheckSet } from './removed-checks.js';

export type { BatchOutcome, BatchPlan } from './outcome.js';
export { probeCheckOf, type ProbeCheckSet } from './removed-checks.js';

/** What a batch is planned against: read once per batch, so a config reload takes effect at the next. */
export interface PlanContext {
  engine: RuleEngine;
  policy: IncidentPolicy;
  targets: ReadonlyMap<string, TargetRef>;
  /** Tiers, SLA timers and channels of an opening; null: nothing is announced or planned. */
  escalation: EscalationContext | null;
  /**
   * The probe checks configured now. A probe signal of any other (a run that ended after a reload
   * removed its check) is dropped: it must not reopen what the removal resolved. Absent: all kept.
   */
  probeChecks?: ProbeCheckSet | undefined;
}

export class Planner {
  private readonly states = new Map<string, FingerprintState>();
  /** Each state's `firing` list is read and changed through this, at a cost flat in its length. */
  private readonly firing = new FiringSeries();
  /** Series key → fingerprints it fires (or released last), as the states say. */
  private readonly series = new Map<string, string[]>();
  private readonly dependencies = new DependencyIndex();

  constructor(private readonly logger: Logger) {}

  /** The persisted hysteresis state, so a restart neither re-opens nor forgets. */
  load(states: FingerprintState[]): void {
    for (const st of states) {
      this.states.set(st.fingerprint, st);
      this.firing.loaded(st);
      // Which fingerprints each series holds follows from the states; it is not stored twice.
      for (const key of st.releasedBy === null ? st.firing : [...st.firing, st.releasedBy]) {
        const list = this.series.get(key);
        this.series.set(key, list ? list.concat(st.fingerprint) : [st.fingerprint]);
      }
    }
  }

  /** Fingerprints with an active incident that the signal's series fires. */
  activeFingerprintsOf(signal: Signal): string[] {
    return (this.series.get(seriesKey(signal)) ?? []).filter((fp) => this.states.get(fp)?.active != null);
  }

  /**
   * A person resolved the fingerprint's incident: it must fail `open_after` times again before it
   * reopens. Returns the state to write, or null when none is kept.
   */
  resolvedByPerson(fingerprint: string): FingerprintState | null {
    const st = this.states.get(fingerprint);
    if (!st) return null;
    this.dependencies.setActive(st, false);
    st.active = null;
    st.fails = 0;
    return st;
  }

  /**
   * A person reopened the fingerprint's incident `number`: it is the fingerprint's active incident
   * again, so the next failure repeats it and a recovery (resolve_after ok signals of the series
   * that fired it) resolves it. Returns the state to write.
   */
  reopenedByPerson(fingerprint: string, number: string, targetId: string, severity: Severity): FingerprintState {
    let st = this.states.get(fingerprint);
    if (!st) {
      // Forgotten after its resolution: the next failure of its check binds a series to it again.
      st = newState(fingerprint, targetId);
      this.states.set(fingerprint, st);
    }
    st.active = number;
    st.severity = severity;
    st.heldBy = null;
    st.oks = 0;
    this.dependencies.setActive(st, true);
    return st;
  }

  /** A person changed the severity of the fingerprint's active incident (counted at its resolution). */
  reclassifiedByPerson(fingerprint: string, severity: Severity): void {
    const st = this.states.get(fingerprint);
    if (st) st.severity = severity;
  }

  /**
   * Computes the store operations for a batch and updates the in-memory state. `keys`: each
   * signal's seriesKey when the caller has them already (the queue works them out).
   */
  plan(signals: Signal[], weights: number[], ctx: PlanContext, keys?: readonly string[]): BatchPlan {
    this.dependencies.sync(ctx.targets, this.states.values());
    const batch = newDraft();
    const checks = ctx.probeChecks;
    for (let n = 0; n < signals.length; n++) {
      const signal = signals[n]!;
      if (checks !== undefined && signal.source === 'probe' && !checks.has(signal.target.id, signal.check.name)) continue;
      this.observe(batch, ctx, signal, weights[n]!, keys?.[n] ?? seriesKey(signal));
    }
    return { ops: batchOps(batch, ctx.escalation) };
  }

  /**
   * Resolves every active incident that only probe checks no longer configured fire (a reload or a
   * restart removed them from the probe files), with `message(check)` on its timeline; channels told
   * of it hear of the end. Series of removed checks also stop holding incidents that other series
   * still fire. Alerts, traps and reports are never touched. Walks every state: run it when the
   * checks change, not per batch.
   */
  planRemovedChecks(
    ctx: Pick<PlanContext, 'escalation'> & { probeChecks: ProbeCheckSet },
    at: number,
    message: (check: { targetId: string; checkName: string }) => string,
  ): BatchPlan {
    const view = { states: this.states, dependencies: this.dependencies, dropSeries: (st: FingerprintState, key: string) => this.dropSeries(st, key) };
    return { ops: planRemovedChecks(view, ctx, at, message) };
  }

  /** Takes a series out of a state's firing list and out of the series index. */
  private dropSeries(st: FingerprintState, key: string): void {
    this.firing.remove(st, key);
    const list = this.series.get(key);
    if (!list) return;
    const rest = list.filter((fp) => fp !== st.fingerprint);
    if (rest.length === 0) this.series.delete(key);
    else this.series.set(key, rest);
  }

  /** The commit's results: numbers of new incidents, and what to count. */
  settle(plan: BatchPlan, results: OpResult[]): BatchOutcome {
    return settleOutcome(plan, results, this.states);
  }

  private observe(batch: BatchDraft, ctx: PlanContext, signal: Signal, weight: number, key: string): void {
    const prev = this.series.get(key) ?? [];
    const evaluation = signal.status === 'fail' ? ctx.engine.evaluate(signal) : null;
    const matches = evaluation === null ? [] : evaluation.matches;
    // An array: a signal fires one fingerprint or a few, where a Set cost more than the lookups.
    const fired: string[] = [];

    for (const match of matches) {
      if (!fired.includes(match.fingerprint)) fired.push(match.fingerprint);
      let st = this.states.get(match.fingerprint);
      if (!st) {
        st = newState(match.fingerprint, signal.target.id);
        this.states.set(match.fingerprint, st);
      }
      batch.forget.delete(match.fingerprint);
      const before = new StateMark(st);
      if (!this.firing.has(st, key)) this.firing.add(st, key);
      st.releasedBy = null;
      st.ruleId = match.ruleId;
      st.openAfter = match.openAfter;
      st.resolveAfter = match.resolveAfter;
      const failsBefore = st.fails;
      const { flappingChanged } = observe(st, 'fail', signal.at, ctx.policy.flapping, weight);
      this.onFail(batch, ctx, { st, match, signal, weight, failsBefore, flappingChanged });
      touch(batch, st, before);
    }

    // Fingerprints this series fired before and not now. An ok signal is an ok for all of them.
    // A failing signal is one only for those whose condition it observed: a full reading (not
    // partial: the device answered) on which the fingerprint's rule was evaluated and did not
    // fire it. A rule an earlier match kept from being evaluated, or whose condition could not
    // be evaluated on these values, says nothing: toner at 4 % stays a problem while the
    // printer reports a jam, or does not answer. A fingerprint only sees an ok once no series
    // fires it any more.
    // The common repeat: the series fires just what it fired before, and nothing is let go.
    if (fired.length === prev.length && fired.every((fp, i) => fp === prev[i])) return;
    // slice/concat, not the pushed array: that leaves 17 slots in arrays kept per series.
    let next: string[] = fired.slice();
    for (const fp of prev) {
      if (fired.includes(fp)) continue;
      const st = this.states.get(fp);
      if (!st) continue;
      // States written before ruleId was recorded keep the old reading: any failure is an ok.
      const unobserved = evaluation !== null && (signal.partial === true || (st.ruleId != null && !evaluation.observed(st.ruleId)));
      if (unobserved) {
        if (st.releasedBy === key || this.firing.has(st, key)) next = next.concat(fp);
        continue;
      }
      const before = new StateMark(st);
      if (this.firing.remove(st, key)) {
        if (st.firing.length > 0) {
          touch(batch, st, before); // another series still fails it; this one lets go
          continue;
        }
        st.releasedBy = key;
      } else if (st.releasedBy !== key) {
        continue; // another series fired it since; this one no longer has a say
      }
      const { flappingChanged } = observe(st, 'ok', signal.at, ctx.policy.flapping, weight);
      this.onOk(batch, st, signal, flappingChanged);
      if (forgettable(st)) {
        this.states.delete(fp);
        batch.dirty.delete(fp);
        batch.forget.add(fp);
      } else {
        next = next.concat(fp);
        touch(batch, st, before);
      }
    }

    if (next.length === 0) this.series.delete(key);
    else if (next.length !== prev.length || next.some((fp, i) => fp !== prev[i])) this.series.set(key, next);
  }

  private onFail(batch: BatchDraft, ctx: PlanContext, o: FailObservation): void {
    const { st, match: m, signal, weight, flappingChanged } = o;
    const at = signal.at;
    const opening = st.active === null;
    if (opening) {
      if (st.fails < m.openAfter) return;
      const parent = this.dependencies.activeParent(signal.target.id);
      if (parent !== null) {
        // A dependency holds back the child's incident; the parent's incident records it once.
        if (st.heldBy !== parent) {
          st.heldBy = parent;
          batch.ops.push({
            kind: 'relate',
            at,
            fingerprint: parent,
            related: { targetId: signal.target.id, fingerprint: st.fingerprint, since: at },
            message: `${signal.target.name} (${signal.target.id}) is failing too: ${m.title}`,
          });
        }
        return;
      }
      st.heldBy = null;
      // Opened in this batch: the store numbers it when committing, settle() puts the number in.
      st.active = { numberPending: true };
      st.severity = m.classification.severity;
      this.dependencies.setActive(st, true);
    } else if (coalesceRepeat(batch, o)) {
      return;
    }
    batch.lastOp.set(st.fingerprint, batch.ops.length);
    // An opening counts the consecutive failures that led to it, not only the last one: the
    // counter's (capped at open_after), plus those of this signal's weight the cap did not take
    // (alerts folded into it, SignalQueue).
    const count = opening ? st.fails + weight - Math.max(st.fails - o.failsBefore, 1) : weight;
    const draft = draftOf(m, signal);
    // One series: its rendering is the current condition, and the title follows it.
    const failOp: StoreOp = {
      kind: 'fail',
      at,
      count,
      reopenWindowMs: ctx.policy.reopenWindowMs,
      maxSubscribers: ctx.policy.maxSubscribers,
      draft,
      retitle: st.firing.length === 1,
    };
    const muted = opening && ctx.escalation !== null ? planOpeningHold(batch, failOp, ctx.escalation, this.logger) : false;
    batch.ops.push(failOp);
    announceFail(batch, failOp, st, muted);
    if (flappingChanged || st.flapping) pushFlapping(batch, st, at, flappingChanged);
  }

  private onOk(batch: BatchDraft, st: FingerprintState, signal: Signal, flappingChanged: boolean): void {
    st.heldBy = null;
    if (st.active === null) return;
    if (flappingChanged) pushFlapping(batch, st, signal.at, true);
    if (st.flapping || st.oks < st.resolveAfter) return;
    const n = st.resolveAfter;
    const resolveOp: StoreOp = {
      kind: 'resolve',
      at: signal.at,
      fingerprint: st.fingerprint,
      actor: 'system',
      message:
        signal.status === 'ok'
          ? `recovered after ${n} ok signal${n === 1 ? '' : 's'}: ${signal.message || signal.check.name + ' ok'}`
          : `condition cleared in ${n} reading${n === 1 ? '' : 's'} (the check still fails for another reason): ${signal.message}`,
    };
    batch.ops.push(resolveOp);
    // Always: whoever was told of an incident is told of its end.
    batch.announce.add(resolveOp);
    batch.lastOp.set(st.fingerprint, batch.ops.length - 1);
    this.dependencies.setActive(st, false);
    st.active = null;
  }
}

function touch(batch: BatchDraft, st: FingerprintState, before: StateMark): void {
  if (before.changed(st)) batch.dirty.set(st.fingerprint, st);
}
