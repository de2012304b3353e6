// The store the API tests run on: the real SQLite store, one fresh file per test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { IncidentStore } from '../../src/store/types.js';

export async function makeStore(): Promise<IncidentStore> {
  const dir = await mkdtemp(join(tmpdir(), 'incidentd-api-'));
  const store = new SqliteStore({ path: join(dir, 'incidentd.db') });
  await store.open();
  // Closing the store also removes its directory, so no test leaves files behind.
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  };
  return store;
}
