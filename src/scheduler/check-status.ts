// What each configured check last said: up, down, not run yet, or unable to run on this machine.
// Kept in memory, updated by every probe run, read by GET /api/v1/checks and the per-check metrics.
// A lookup per run; lists walk the table (in target/check order, kept at each reload).
import type { CheckResult } from '../domain/check.js';
import type { Clock } from '../shared/clock.js';
import { DEFAULT_TENANT } from '../domain/principal.js';
import { CheckHistory, type CheckHistoryView } from './check-history.js';

export const CHECK_STATES = ['up', 'down', 'unknown', 'cannot-run'] as const;
/** `unknown`: not run yet since it was configured; `cannot-run`: this machine cannot run its probe. */
export type CheckState = (typeof CHECK_STATES)[number];

/** One configured check, as the table knows it. */
export interface CheckRef {
  targetId: string;
  targetName: string;
  checkName: string;
  /** The probe kind (`icmp`, `http`…). */
  kind: string;
  /** Its target's tenant; absent: DEFAULT_TENANT. */
  tenant?: string | undefined;
}

export interface CheckStatus extends CheckRef {
  /** `<target id>/<check name>`, unique. */
  id: string;
  state: CheckState;
  /** When the current state began (for `unknown`: when the check was configured). Epoch ms. */
  since: number;
  /** When the last run ended; null before the first. */
  lastRunAt: number | null;
  /** Duration of the last run in ms; null before the first and for a run that could not start. */
  latencyMs: number | null;
  /** The message of the last run that failed or could not run (kept after recovery); null if none. */
  lastError: string | null;
  lastErrorAt: number | null;
  /** Failed runs in a row, 0 once a run succeeds; runs that could not run do not count. */
  consecutiveFailures: number;
}

/**
 * Told when a check's state changes (down, up again, cannot run), after the status is updated;
 * `from` and `fromSince` are the state left and when it began.
 */
export type CheckTransitionListener = (status: Readonly<CheckStatus>, from: CheckState, fromSince: number) => void;

export interface CheckStatusFilter {
  state?: readonly CheckState[];
  targetId?: string;
  /** Only checks of these tenants (empty: none); absent: every tenant. */
  tenants?: readonly string[];
}

/** A status and where its ring of recent results is. */
interface Entry extends CheckStatus {
  historySlot: number;
}

/** One flat string (join, not a template literal, which leaves a chain of pieces in the id an entry keeps). */
function idOf(targetId: string, checkName: string): string {
  return [targetId, checkName].join('/');
}

/** Plain code-unit order: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class CheckStatusTable {
  private readonly clock: Clock;
  private readonly transition: CheckTransitionListener | undefined;
  /** In target id, then check name order; rebuilt in that order by setChecks. */
  private entries = new Map<string, Entry>();
  /** The last results of every check (latency history), one ring per entry. */
  private readonly recent = new CheckHistory();
  private readonly stateCounts: Record<CheckState, number> = { up: 0, down: 0, unknown: 0, 'cannot-run': 0 };

  constructor(deps: { clock: Clock; transition?: CheckTransitionListener }) {
    this.clock = deps.clock;
    this.transition = deps.transition;
  }

  /**
   * Replaces the set of checks (at start and at each reload). A check still configured with the
   * same kind keeps its state; a new one (or one whose kind changed) starts `unknown`; a removed
   * one is dropped, and its late results are ignored.
   */
  setChecks(refs: Iterable<CheckRef>): void {
    const sorted = [...refs].sort((a, b) => compare(a.targetId, b.targetId) || compare(a.checkName, b.checkName));
    const next = new Map<string, Entry>();
    const now = this.clock.now();
    this.recent.reserve(sorted.length);
    for (const ref of sorted) {
      const id = idOf(ref.targetId, ref.checkName);
      if (next.has(id)) continue; // the loader keeps check names unique per target; this keeps counts right regardless
      const old = this.entries.get(id);
      if (old && old.kind === ref.kind) {
        old.targetName = ref.targetName;
        // A target moved to another tenant on reload is listed under its new one at once.
        // Assigned, never deleted: a delete would turn the entry into a slow dictionary object.
        old.tenant = ref.tenant;
        next.set(id, old);
        continue;
      }
      // Every field written here in one order (tenant too, even when absent), so all entries share
      // one shape; a spread of the ref gave each its own (15,000 shapes at 15,000 checks).
      const fresh: Entry = {
        targetId: ref.targetId,
        targetName: ref.targetName,
        checkName: ref.checkName,
        kind: ref.kind,
        tenant: ref.tenant,
        historySlot: this.recent.allocate(),
        id,
        state: 'unknown',
        since: now,
        lastRunAt: null,
        latencyMs: null,
        lastError: null,
        lastErrorAt: null,
        consecutiveFailures: 0,
      };
      next.set(id, fresh);
      this.stateCounts.unknown++;
    }
    for (const [id, old] of this.entries) {
      if (next.get(id) === old) continue;
      this.stateCounts[old.state]--;
      this.recent.release(old.historySlot);
    }
    this.entries = next;
  }

  /** Records one finished run; ignored for a check no longer configured. */
  record(targetId: string, checkName: string, result: CheckResult): void {
    const entry = this.entries.get(idOf(targetId, checkName));
    if (!entry) return;
    const now = this.clock.now();
    entry.lastRunAt = now;
    this.recent.record(entry.historySlot, now, result.cannotRun !== undefined ? null : result.latencyMs, result.cannotRun !== undefined ? 'cannot-run' : result.status);
    if (result.cannotRun !== undefined) {
      entry.latencyMs = null;
      entry.consecutiveFailures = 0;
      entry.lastError = result.cannotRun;
      entry.lastErrorAt = now;
      this.moveTo(entry, 'cannot-run', now);
    } else if (result.status === 'ok') {
      entry.latencyMs = result.latencyMs;
      entry.consecutiveFailures = 0;
      this.moveTo(entry, 'up', now);
    } else {
      entry.latencyMs = result.latencyMs;
      entry.consecutiveFailures++;
      entry.lastError = result.message;
      entry.lastErrorAt = now;
      this.moveTo(entry, 'down', now);
    }
  }

  /**
   * Marks every check of `kind` as unable to run, before any run (the kind's program is missing
   * at start-up). The next run that gets through sets the real state.
   */
  markKindCannotRun(kind: string, reason: string): void {
    const now = this.clock.now();
    for (const entry of this.entries.values()) {
      if (entry.kind !== kind || entry.state !== 'unknown') continue;
      entry.lastError = reason;
      entry.lastErrorAt = now;
      this.moveTo(entry, 'cannot-run', now);
    }
  }

  get(targetId: string, checkName: string): Readonly<CheckStatus> | undefined {
    return this.entries.get(idOf(targetId, checkName));
  }

  /** The check's last results (at most HISTORY_LENGTH), oldest first; undefined for a check not configured. */
  history(id: string): CheckHistoryView | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : this.recent.view(entry.historySlot);
  }

  /** Bytes the rings of recent results hold. */
  historyBytes(): number {
    return this.recent.bytes();
  }

  /** Copies of the matching statuses, ordered by target id, then check name. */
  list(filter: CheckStatusFilter = {}): CheckStatus[] {
    const out: CheckStatus[] = [];
    const states = filter.state && filter.state.length > 0 ? new Set(filter.state) : null;
    for (const entry of this.entries.values()) {
      if (filter.targetId !== undefined && entry.targetId !== filter.targetId) continue;
      if (filter.tenants !== undefined && !filter.tenants.includes(entry.tenant ?? DEFAULT_TENANT)) continue;
      if (states && !states.has(entry.state)) continue;
      const { historySlot: _slot, ...status } = entry;
      out.push(status);
    }
    return out;
  }

  /** Visits every status in list order, without copies (the per-check metrics read them at each scrape). */
  each(visit: (status: Readonly<CheckStatus>) => void): void {
    for (const entry of this.entries.values()) visit(entry);
  }

  counts(): Record<CheckState, number> {
    return { ...this.stateCounts };
  }

  size(): number {
    return this.entries.size;
  }

  private moveTo(entry: CheckStatus, state: CheckState, at: number): void {
    if (entry.state === state) return;
    const from = entry.state;
    const fromSince = entry.since;
    this.stateCounts[entry.state]--;
    this.stateCounts[state]++;
    entry.state = state;
    entry.since = at;
    this.transition?.(entry, from, fromSince);
  }
}
