import { IncidentdError } from '../../shared/errors.js';

/** A `list` cursor that this store did not hand out (or that was altered). Same name as SQLite's. */
export class InvalidCursorError extends IncidentdError {
  constructor(readonly cursor: string) {
    super(`list cursor ${JSON.stringify(cursor)} is not valid; start again from the first page without a cursor`);
  }
}

/** The database was written by a newer incidentd than this one. */
export class MongoSchemaTooNewError extends IncidentdError {
  constructor(
    readonly where: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `MongoDB database ${where} has schema version ${found}, but this incidentd supports up to ${supported}; ` +
        'upgrade incidentd, or point store.uri at another database',
    );
  }
}

/** The connection string does not parse; the message never repeats the string (it may hold a password). */
export class MongoUriError extends IncidentdError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `the MongoDB connection string is not valid (${detail}); expected mongodb://[user:password@]host[:port][,host…]/?options ` +
        'or mongodb+srv://…, with special characters in the user or password percent-encoded',
      options,
    );
  }
}
