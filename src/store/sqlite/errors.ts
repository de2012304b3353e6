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

/** A `list` cursor that this store did not hand out (or that was altered). */
export class InvalidCursorError extends IncidentdError {
  constructor(readonly cursor: string) {
    super(`list cursor ${JSON.stringify(cursor)} is not valid; start again from the first page without a cursor`);
  }
}
