// The ingest bound (ingest.max_queue), checked in one place for every durable intake path (the
// alert endpoints and SNMP traps) before signals are journaled: a sender that is refused keeps its
// alerts and tries again, where one taken in beyond the bound would wait for a store that is away.
import { IncidentdError } from '../shared/errors.js';

/** More signals in one request than the queue may ever hold: the sender must split it. */
export class BatchTooLargeError extends IncidentdError {
  constructor(
    readonly count: number,
    readonly limit: number,
  ) {
    super(`batch of ${count} alerts exceeds ingest.max_queue (${limit}); send smaller batches`);
  }
}

/** As many signals wait for the store as ingest.max_queue allows: the sender retries later. */
export class IngestBacklogError extends IncidentdError {
  constructor(
    readonly queued: number,
    readonly limit: number,
  ) {
    super(`${queued} alerts are waiting to be stored (ingest.max_queue ${limit})`);
  }
}

export class IngestAdmission {
  constructor(
    /** Signals taken in and not committed yet. */
    private readonly queued: () => number,
    /** ingest.max_queue of the config in force. */
    private readonly limit: () => number,
  ) {}

  /** Throws BatchTooLargeError or IngestBacklogError unless `count` more signals may come in now. */
  check(count: number): void {
    const limit = this.limit();
    if (count > limit) throw new BatchTooLargeError(count, limit);
    const queued = this.queued();
    if (queued + count > limit) throw new IngestBacklogError(queued, limit);
  }
}
