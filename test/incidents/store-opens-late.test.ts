// A database that is down when the daemon starts: signals are accepted and wait; they are
// committed, in order, once the store opens; stopping before that gives them up loudly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentManager } from '../../src/incidents/manager.js';
import { compileRules } from '../../src/rules/compile.js';
import { SystemClock } from '../../src/shared/clock.js';
import { StoreUnavailableError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { active, policy, rule, sig, target } from './harness.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-late-'));
  dirs.push(dir);
  const store = new SqliteStore({ path: join(dir, 'late.db') });
  const { engine } = compileRules([rule({ id: 'down', when: 'true' })], policy.uncategorized);
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const manager = IncidentManager.whenStoreOpens(
    { store, clock: new SystemClock(), logger: silentLogger(), current: () => ({ engine, policy, targets: new Map() }) },
    opened.then(() => store.open()),
  );
  return { store, manager, open };
}

describe('a store that opens late', () => {
  it('commits the signals accepted while it was away once it opens', async () => {
    const { store, manager, open } = setup();
    const web = target('web-1');
    const accepted = manager.submitMany([sig(web, 'fail', 1), sig(web, 'fail', 2), sig(target('db-1'), 'fail', 3)]);
    await new Promise((r) => setTimeout(r, 30));
    expect(manager.queued()).toBe(3);
    open();
    await accepted;
    expect((await active(store)).map((i) => [i.target.id, i.occurrences]).sort()).toEqual([
      ['db-1', 1],
      ['web-1', 2],
    ]);
    await manager.stop();
    await store.close();
  });

  it('stopping before the store ever opens fails the waiting submissions instead of hanging', async () => {
    const { manager } = setup();
    const accepted = manager.submit(sig(target('web-1'), 'fail', 1));
    await manager.stop();
    await expect(accepted).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
