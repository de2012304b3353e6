// A probe kind this machine cannot run (ping not installed) is a problem of the daemon's set-up:
// said once in the log, shown as the checks' state `cannot-run`, never an incident about a target.
import { getProbeKind } from '../probe-kinds/registry.js';
import type { CheckStatusTable } from '../scheduler/check-status.js';
import type { Logger } from '../shared/logger.js';

export class CannotRunWarnings {
  private readonly said = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Logs one warning line per kind and reason for the life of the daemon. */
  warn(kind: string, reason: string): void {
    const key = `${kind}\n${reason}`;
    if (this.said.has(key)) return;
    this.said.add(key);
    this.logger.warn({ kind }, `${kind} checks cannot run on this machine: ${reason}`);
  }
}

/**
 * Asks each probe kind in use whether it can run here (at start-up and after a reload); the
 * checks of one that cannot are marked `cannot-run` at once, and it is said in the log.
 */
export async function checkPrerequisites(kinds: Iterable<string>, table: CheckStatusTable, warnings: CannotRunWarnings): Promise<void> {
  for (const type of new Set(kinds)) {
    const reason = (await getProbeKind(type).prerequisites?.()) ?? null;
    if (reason === null) continue;
    warnings.warn(type, reason);
    table.markKindCannotRun(type, reason);
  }
}
