// The silences in force, kept in memory so that neither ingest nor the escalation sweep reads the
// store to ask whether something is silenced. Refreshed from the store when this instance changes
// one (create, expire), and on a Clock timer: at the next start or end of a silence it knows, and
// at least every `refreshMs` so silences set through another instance sharing the store arrive too.
// Whether a silence holds at an instant is decided by its times, so an answer is right even
// between refreshes; the timer only keeps the list short and current.
import { compileSilence, silencedBy, type CompiledSilence, type Silence, type SilenceHit, type SilenceState, type SilenceSubject } from '../domain/silence.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { SilenceStore } from '../store/types.js';

export interface ActiveSilencesOptions {
  store: SilenceStore;
  clock: Clock;
  logger: Logger;
  /** Longest time between two reads of the store; default 60 s. */
  refreshMs?: number;
  /** Pending and active silences read at most; default 1000. */
  limit?: number;
  /**
   * The set in force changed (a silence was added, started, ended or expired): wire to the
   * escalation sweep, so incidents a silence released are announced at once.
   */
  changed?: () => void;
}

export class ActiveSilences {
  private compiled: CompiledSilence[] = [];
  /**
   * Silences that name one target (`target=…`, the common case) by that target, and the others:
   * an opening is checked against its target's silences and the others, not against every one.
   */
  private byTarget = new Map<string, CompiledSilence[]>();
  private anyTarget: CompiledSilence[] = [];
  /** Ended silences in the store at the last refresh that read them; null before one did. */
  private expiredAtRefresh: number | null = null;
  private timer: TimerHandle | null = null;
  private stopped = true;
  private refreshing: Promise<void> | null = null;
  private readonly refreshMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: ActiveSilencesOptions) {
    this.refreshMs = opts.refreshMs ?? 60_000;
    this.log = opts.logger.child({ component: 'silences' });
  }

  /** Reads the store and starts the timer. A store that fails is retried at the next tick. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    return this.refreshing ?? Promise.resolve();
  }

  /** The silences holding back `subject` at `at`, or null. */
  match(subject: SilenceSubject, at: number): SilenceHit | null {
    const mine = this.byTarget.get(subject.target);
    return silencedBy(mine === undefined ? this.anyTarget : [...mine, ...this.anyTarget], subject, at);
  }

  /** Pending and active silences as last read. */
  current(): Silence[] {
    return this.compiled.map((c) => c.silence);
  }

  /**
   * Silences by state at `at` (the incidentd_silences gauge): pending and active from the ones in
   * memory, judged by their times, so one that started or ended since the last refresh counts right;
   * ended ones as the store counted them at the last refresh, plus those ended since. Null until a
   * refresh has read the store.
   */
  counts(at: number): Record<SilenceState, number> | null {
    if (this.expiredAtRefresh === null) return null;
    const out = { pending: 0, active: 0, expired: this.expiredAtRefresh };
    for (const { silence: s } of this.compiled) out[s.endsAt <= at ? 'expired' : s.startsAt > at ? 'pending' : 'active']++;
    return out;
  }

  /** Reads the pending and active silences again (after a change), then tells `changed`. */
  refresh(): Promise<void> {
    // One read at a time; a refresh asked for during one runs after it, so it sees the change.
    const run = (this.refreshing ?? Promise.resolve()).then(() => this.load());
    this.refreshing = run;
    void run.finally(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    return run;
  }

  private async load(): Promise<void> {
    const now = this.opts.clock.now();
    try {
      const [list, counted] = await Promise.all([
        this.opts.store.listSilences(['pending', 'active'], now, this.opts.limit ?? 1000),
        this.opts.store.countSilences(now),
      ]);
      const before = this.compiled.map((c) => `${c.silence.id}:${c.silence.startsAt}:${c.silence.endsAt}`).join(',');
      this.index(list.map(compileSilence));
      this.expiredAtRefresh = counted.expired;
      const after = list.map((s) => `${s.id}:${s.startsAt}:${s.endsAt}`).join(',');
      if (before !== after) this.opts.changed?.();
    } catch (err) {
      // Keep what was read before: the times in it still decide correctly.
      this.log.warn({ err }, 'cannot read the silences; keeping the ones read before and retrying');
    }
    this.schedule(now);
  }

  private index(compiled: CompiledSilence[]): void {
    const byTarget = new Map<string, CompiledSilence[]>();
    const anyTarget: CompiledSilence[] = [];
    for (const c of compiled) {
      const exact = c.silence.matchers.find((m) => m.name === 'target' && m.op === '=');
      if (exact === undefined) anyTarget.push(c);
      else byTarget.set(exact.value, [...(byTarget.get(exact.value) ?? []), c]);
    }
    this.compiled = compiled;
    this.byTarget = byTarget;
    this.anyTarget = anyTarget;
  }

  private schedule(now: number): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.stopped) return;
    let next = now + this.refreshMs;
    for (const { silence: s } of this.compiled) {
      if (s.startsAt > now) next = Math.min(next, s.startsAt);
      else if (s.endsAt > now) next = Math.min(next, s.endsAt);
    }
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, next - now);
  }
}
