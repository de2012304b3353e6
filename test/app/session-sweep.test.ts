// The hourly sweep of browser sessions nobody came back to, on a real SQLite store and the fake clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_SWEEP_EVERY_MS, startSessionSweep } from '../../src/app/session-sweep.js';
import type { SessionRecord } from '../../src/domain/account.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';
import { makeStore } from '../api/store.js';

const HOUR = 3_600_000;
let store: IncidentStore;

beforeEach(async () => {
  store = await makeStore();
});
afterEach(async () => {
  await store.close();
});

function session(id: string, at: number): SessionRecord {
  return { id, userId: 'u1', name: 'dana', roles: ['agent'], tenants: { all: true }, csrfToken: `t-${id}`, createdAt: at, lastSeenAt: at };
}

describe('session sweep', () => {
  it('removes sessions past their idle limit each hour, keeps the live ones, and stops', async () => {
    const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
    const t0 = clock.now();
    await store.createSession(session('abandoned', t0));
    await store.createSession(session('recent', t0 + 90 * 60_000));
    const sweep = startSessionSweep({ store, clock, logger: silentLogger(), limits: () => ({ idleMs: 2 * HOUR, absoluteMs: 24 * HOUR }) });
    await clock.advance(SESSION_SWEEP_EVERY_MS);
    await new Promise((r) => setTimeout(r, 50));
    // One hour in: nothing is 2 hours idle yet.
    expect(await store.getSession('abandoned')).not.toBeNull();
    await clock.advance(SESSION_SWEEP_EVERY_MS);
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.getSession('abandoned')).toBeNull();
    expect(await store.getSession('recent')).not.toBeNull();
    await sweep.stop!();
    expect(clock.pendingTimers()).toBe(0);
  });
});
