// Which store the daemon uses and how it is opened at start-up: the embedded SQLite file must open
// at once; a MongoDB that is down is waited for in the background (probes run, signals queue,
// /readyz says so).
import type { StoreConfig } from '../config-core/types.js';
import type { Clock } from '../shared/clock.js';
import { StoreUnavailableError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { IncidentStore } from '../store/types.js';
import type { Started } from './startup.js';

export function defaultStore(cfg: StoreConfig): IncidentStore | Promise<IncidentStore> {
  // Exclusive: the embedded store serves one daemon; a second one on the file is refused.
  if (cfg.type === 'sqlite') return new SqliteStore({ path: cfg.path, exclusive: true });
  // Loaded only when used: the MongoDB driver costs a daemon on SQLite ~18 MB of buffers and ~6 MB
  // of heap (bench:memory).
  return import('../store/mongo/store.js').then(({ MongoStore }) => new MongoStore({ uri: cfg.uri, database: cfg.database }));
}

/** `MONGODB_URI` in the environment selects MongoDB even when the file names the SQLite default. */
export function storeConfigFrom(cfg: StoreConfig, env: NodeJS.ProcessEnv): StoreConfig {
  const uri = env.MONGODB_URI?.trim();
  if (cfg.type === 'sqlite' && uri) return { type: 'mongodb', uri, database: env.MONGODB_DATABASE?.trim() || 'incidentd' };
  return cfg;
}

export interface OpenedStore {
  store: IncidentStore;
  /** Null: open now. Else resolves when a store that was down at start-up opens. */
  storeOpen: Promise<void> | null;
  /** Gives up waiting for a store that was down (no-op once open, or when it opened at once). */
  stopWaiting(): void;
}

/** Opens the store; the stop gives up waiting for it (if it was down) and closes it. */
export async function openStore(
  storeCfg: StoreConfig,
  fileType: StoreConfig['type'],
  deps: { make: (cfg: StoreConfig) => IncidentStore | Promise<IncidentStore>; clock: Clock; logger: Logger },
): Promise<Started<OpenedStore>> {
  const { clock, logger } = deps;
  const store = await deps.make(storeCfg);
  const opened = storeOpenedMessage(storeCfg.type, fileType);
  try {
    await store.open();
    logger.info({ store: store.describe() }, opened);
    warnIfNotAtomic(store, logger);
    return { value: { store, storeOpen: null, stopWaiting: () => undefined }, stop: () => store.close() };
  } catch (err) {
    // The embedded SQLite file has no excuse to be away: failing to open it stops the start.
    if (storeCfg.type === 'sqlite' || !(err instanceof StoreUnavailableError)) throw err;
    logger.error({ store: store.describe(), err: err.message }, 'store unreachable at start-up; retrying in the background');
    const retry = retryOpen(store, clock, logger, opened);
    return {
      value: { store, storeOpen: retry.opened, stopWaiting: () => retry.stop() },
      stop: async () => {
        retry.stop();
        await store.close();
      },
    };
  }
}

function storeOpenedMessage(type: StoreConfig['type'], fileType: StoreConfig['type']): string {
  if (type === 'sqlite') return 'store opened (embedded SQLite; set MONGODB_URI or store.type: mongodb for MongoDB)';
  return fileType === 'sqlite' ? 'store opened (MongoDB, selected by MONGODB_URI)' : 'store opened (MongoDB)';
}

/** Opens the store again and again (1 s doubling to 30 s) until it answers or stop() is called. */
function retryOpen(store: IncidentStore, clock: Clock, logger: Logger, openedMessage: string) {
  let stopped = false;
  let timer: { cancel(): void } | null = null;
  let giveUp: (err: unknown) => void = () => undefined;
  const opened = new Promise<void>((resolve, reject) => {
    giveUp = reject;
    let delay = 1000;
    const attempt = () => {
      timer = null;
      store.open().then(
        () => {
          logger.info({ store: store.describe() }, openedMessage);
          warnIfNotAtomic(store, logger);
          resolve();
        },
        (err: unknown) => {
          if (stopped) return;
          logger.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'store still unreachable');
          timer = clock.setTimeout(attempt, delay);
          delay = Math.min(delay * 2, 30_000);
        },
      );
    };
    timer = clock.setTimeout(attempt, delay);
  });
  opened.catch(() => undefined);
  return {
    opened,
    stop() {
      stopped = true;
      timer?.cancel();
      giveUp(new StoreUnavailableError('stopped before the store became reachable'));
    },
  };
}

/**
 * Starts `start` now when the store is open, else once it opens; the returned cancel keeps a start
 * that was waiting for the store from happening after the daemon stopped.
 */
export function whenStoreOpen(storeOpen: Promise<void> | null, start: () => void): { cancel(): void } {
  if (storeOpen === null) {
    start();
    return { cancel: () => undefined };
  }
  let cancelled = false;
  storeOpen.then(
    () => {
      if (!cancelled) start();
    },
    () => undefined,
  );
  return { cancel: () => (cancelled = true) };
}

/** A store without atomic commits (a standalone MongoDB server) says why, once it is open. */
function warnIfNotAtomic(store: IncidentStore, logger: Logger): void {
  const { warning } = store.guarantees();
  if (warning !== null) logger.warn({ store: store.describe() }, warning);
}
