// One error class per failure a person may have to act on; messages say what to do.

export class IncidentdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem in one config file, with its position (1-based line and column). */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.message}`;
}

/** The configuration did not load; `issues` lists every problem found, not only the first. */
export class ConfigError extends IncidentdError {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `configuration has ${issues.length} error${issues.length === 1 ? '' : 's'}:\n` +
        issues.map(formatIssue).join('\n'),
    );
  }
}

/** The store could not be reached or refused an operation; the caller may retry. */
export class StoreUnavailableError extends IncidentdError {}

/** An incident number that names no incident. */
export class IncidentNotFoundError extends IncidentdError {
  constructor(readonly number: string) {
    super(`incident ${number} does not exist`);
  }
}

/** A state change the incident's current status does not allow (e.g. acknowledging a resolved one). */
export class InvalidTransitionError extends IncidentdError {}

/**
 * A person's change was decided on an incident that changed before it could be written (the
 * escalation sweep or another person got there first). Nothing was written; look again and retry.
 */
export class IncidentChangedError extends InvalidTransitionError {
  constructor(readonly number: string) {
    super(`incident ${number} changed while this request was being applied; nothing was changed: read it again and retry`);
  }
}

/** A list cursor that the store did not hand out (or that was altered); the API answers 400. */
export class InvalidCursorError extends IncidentdError {
  constructor(
    readonly cursor: string,
    reason = 'is not valid',
  ) {
    super(`list cursor ${JSON.stringify(cursor.slice(0, 100))} ${reason}; start again from the first page without a cursor`);
  }
}

/**
 * Another incidentd process holds a file or folder that one process may use at a time (the
 * embedded SQLite database, an intake journal). The daemon refuses to start with this message.
 */
export class InstanceLockedError extends IncidentdError {}

/** An incident already keeps as many subscribers as incidents.max_subscribers allows; the API answers 409. */
export class SubscriberLimitError extends IncidentdError {
  constructor(
    readonly number: string,
    readonly max: number,
  ) {
    super(`incident ${number} already keeps ${max} subscribers, the most incidents.max_subscribers allows; raise it in the daemon configuration to add more`);
  }
}
