export { SqliteStore, MAX_PAGE_SIZE } from './store.js';
export type { SqliteStoreOptions } from './store.js';
export { StoreSchemaTooNewError, InvalidCursorError } from './errors.js';
export { SCHEMA_VERSION } from './schema.js';
