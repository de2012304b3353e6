// What /readyz reads from the manager at start-up: not ready until the store is open and what the
// intake journal held from before the last stop is committed. Counting incidents as soon as the
// API listens, while the replay is still committing, misses the replayed alerts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntakeJournal } from '../../src/incidents/intake-journal.js';
import { IncidentManager } from '../../src/incidents/manager.js';
import { compileRules } from '../../src/rules/compile.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { IncidentStore, OpResult, StoreOp } from '../../src/store/types.js';
import { active, policy, rule, sig, target } from './harness.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const ping = rule({ id: 'ping-down', when: 'check.name == "icmp"' });

let dir: string;
const cleanup: (() => Promise<void>)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-startup-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** A store whose commits fail while `down`, and wait for `release` while `held`. */
function gatedStore() {
  const raw = new SqliteStore({ path: join(dir, 'incidents.db') });
  const gate = { down: false, held: null as Promise<void> | null, release: () => undefined as void };
  const store = new Proxy(raw, {
    get(obj, prop, recv) {
      if (prop === 'commit') {
        return async (ops: StoreOp[]): Promise<OpResult[]> => {
          if (gate.down) throw new Error('SQLITE_IOERR: disk I/O error');
          if (gate.held) await gate.held;
          return obj.commit(ops);
        };
      }
      const v = Reflect.get(obj, prop, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
    },
  }) as IncidentStore;
  const hold = () => {
    gate.held = new Promise<void>((r) => (gate.release = () => r()));
  };
  return { store, gate, hold };
}

async function daemon(s: ReturnType<typeof gatedStore>, storeOpen?: Promise<void>) {
  const { engine } = compileRules([ping], policy.uncategorized);
  const journal = await IntakeJournal.open({ dir: join(dir, 'intake'), logger: silentLogger() });
  const deps = { store: s.store, clock: new SystemClock(), logger: silentLogger(), current: () => ({ engine, policy, targets: new Map() }), journal };
  if (storeOpen) return IncidentManager.whenStoreOpens(deps, storeOpen.then(() => s.store.open()));
  await s.store.open();
  return IncidentManager.create(deps);
}

describe('start-up health', () => {
  it('is not healthy until the alerts replayed from the intake journal are committed', async () => {
    // A daemon takes alerts in while its store fails, and stops without committing them.
    const first = gatedStore();
    const m1 = await daemon(first);
    first.gate.down = true;
    for (let i = 0; i < 5; i++) await m1.accept([sig(target(`web-${i}`), 'fail', T0 + i)]);
    await m1.stop();
    await first.store.close();

    // The next start replays them; its first commit is slow.
    const second = gatedStore();
    second.hold();
    const m2 = await daemon(second);
    cleanup.push(async () => {
      second.gate.release();
      await m2.stop();
      await second.store.close();
    });
    expect(m2.startupHealth()).toMatch(/replaying the intake journal/);
    expect(await active(second.store)).toHaveLength(0);

    second.gate.release();
    await m2.flush();
    expect(m2.startupHealth()).toBeNull();
    expect(await active(second.store)).toHaveLength(5);
  });

  it('is healthy at once when the journal holds nothing to replay', async () => {
    const s = gatedStore();
    const m = await daemon(s);
    cleanup.push(async () => {
      await m.stop();
      await s.store.close();
    });
    expect(m.startupHealth()).toBeNull();
  });

  it('is not healthy while the store has not opened', async () => {
    const s = gatedStore();
    let open!: () => void;
    const m = await daemon(s, new Promise<void>((r) => (open = r)));
    cleanup.push(async () => {
      await m.stop();
      await s.store.close();
    });
    expect(m.startupHealth()).toMatch(/waiting for the store/);
    open();
    const deadline = Date.now() + 3000;
    while (m.startupHealth() !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(m.startupHealth()).toBeNull();
  });
});
