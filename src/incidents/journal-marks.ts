// The intake journal's bookkeeping on the committing side: what the last run left uncommitted
// (replayed first at start), the mark each commit records in the store (every journal record at
// or below it is committed), and when segments may be deleted.
import type { Logger } from '../shared/logger.js';
import type { IncidentStore, IntakeOp } from '../store/types.js';

/** An intake mark for a commit; `release` asks for a durable commit so segments may be deleted after it. */
export interface IntakeMark {
  op: IntakeOp;
  release: boolean;
}
import type { IntakeJournal } from './intake-journal.js';
import type { SignalQueue } from './signal-queue.js';

export class JournalMarks {
  /** Highest journal lsn handed to the queue, and the highest the store has recorded as committed. */
  private pushedLsn = 0;
  private markedLsn = 0;
  /** The last lsn replayed at start; the replay is committed once the mark reaches it. */
  private replayedLsn = 0;

  constructor(
    private readonly journal: IntakeJournal,
    private readonly logger: Logger,
  ) {}

  /**
   * Journal records past the store's intake mark were answered 2xx but not committed before the
   * last stop (a crash, a kill -9, a store outage): they go to the front of the queue, before
   * anything accepted since. Returns whether there were any.
   */
  async replay(store: IncidentStore, queue: SignalQueue): Promise<boolean> {
    const journal = this.journal;
    const mark = await store.intakeMark(journal.id);
    // New records are numbered past the mark even if the journal's files end below it; a record
    // numbered at or below it would never be replayed.
    await journal.advanceTo(mark);
    const records = journal.takeRecovered(mark);
    for (let i = records.length - 1; i >= 0; i--) queue.pushJournaled(records[i]!.signals, records[i]!.lsn, true);
    // Nothing is deleted yet: the mark read here may not be on disk (a crash leaves it in the OS
    // cache only); the first synced commit lets old segments go.
    this.markedLsn = mark;
    if (records.length === 0) return false;
    const last = records[records.length - 1]!.lsn;
    this.pushedLsn = Math.max(this.pushedLsn, last);
    this.replayedLsn = last;
    const signals = records.reduce((n, r) => n + r.signals.length, 0);
    this.logger.info({ records: records.length, signals, mark }, 'replaying alerts accepted but not stored before the last stop');
    return true;
  }

  /** Record `lsn` is durable and in the queue (records arrive in lsn order). */
  pushed(lsn: number): void {
    this.pushedLsn = lsn;
  }

  /**
   * The intake op for a commit taken from the queue just now, or null when the mark does not move.
   * Every record below the lowest one still queued is in this commit or committed before.
   */
  next(queue: SignalQueue): IntakeMark | null {
    const lsn = Math.min(queue.minPendingLsn() - 1, this.pushedLsn);
    if (lsn <= this.markedLsn) return null;
    // Synced only when journal segments are to be deleted after it; otherwise the journal still
    // holds what this commit writes, and a power loss is repaired by the replay.
    return { op: { kind: 'intake', journal: this.journal.id, lsn }, release: this.journal.canRelease(lsn) };
  }

  /** The commit carrying `op` succeeded: its records may go once the mark is on disk. */
  committed(mark: IntakeMark): void {
    this.markedLsn = mark.op.lsn;
    if (mark.release) this.journal.release(mark.op.lsn);
  }

  /** Null once everything replayed at start is committed; else how far it got. */
  replayProgress(): string | null {
    if (this.markedLsn >= this.replayedLsn) return null;
    return `replaying the intake journal (committed up to ${this.markedLsn} of ${this.replayedLsn})`;
  }
}
