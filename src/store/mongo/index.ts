export { MongoStore, MAX_PAGE_SIZE } from './store.js';
export type { MongoStoreOptions } from './store.js';
export { InvalidCursorError, MongoSchemaTooNewError, MongoUriError } from './errors.js';
export { SCHEMA_VERSION } from './schema.js';
