import { MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from 'mongodb';
import { parseIncidentNumber } from '../../domain/incident.js';
import { IncidentdError, IncidentNotFoundError } from '../../shared/errors.js';


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

// Both stores throw the shared one; re-exported for callers that import from the store.
export { InvalidCursorError } from '../../shared/errors.js';

export function requireSeq(number: string): number {
  const seq = parseIncidentNumber(number);
  if (seq === null) throw new IncidentNotFoundError(number);
  return seq;
}

/** Errors that mean "the server could not be reached", as opposed to "the server said no". */
export function isConnectionError(err: unknown): boolean {
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError
  );
}
