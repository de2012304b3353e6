// What the connection string says beyond what the driver uses itself.

/**
 * The database named in the connection string's path (`mongodb://host/name?…`), or null when it
 * names none. MongoDB's convention: the URI's database is the one the application uses.
 */
export function databaseInUri(uri: string): string | null {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(uri);
  if (!m || m[1] === undefined || m[1] === '') return null;
  return decodeURIComponent(m[1]);
}

/** The connection string with its path naming `database` instead (for tests and tools). */
export function withDatabase(uri: string, database: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/is.exec(uri);
  if (!m) return uri;
  return `${m[1]}/${encodeURIComponent(database)}${m[3] ?? ''}`;
}
