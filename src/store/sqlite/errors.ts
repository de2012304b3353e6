import { IncidentdError } from '../../shared/errors.js';

/** The database file was written by a newer incidentd than this one. */
export class StoreSchemaTooNewError extends IncidentdError {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `SQLite database ${path} has schema version ${found}, but this incidentd supports up to ${supported}; ` +
        'upgrade incidentd, or point store.path at another file',
    );
  }
}

// Both stores throw the shared one; re-exported for callers that import from the store.
export { InvalidCursorError } from '../../shared/errors.js';

/** SQLite's "another connection holds the lock" (SQLITE_BUSY and its extended codes). */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}
