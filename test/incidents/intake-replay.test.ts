// Alerts taken in through the intake journal: answered once on disk, committed right after, and
// replayed exactly once after a crash, with a real SQLite file and a real journal directory.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuleConfig } from '../../src/rules/config.js';
import type { Signal } from '../../src/domain/signal.js';
import { JOURNAL_COMMIT_DELAY_MS, STEADY_COMMIT_DELAY_MS } from '../../src/incidents/committer.js';
import { IntakeJournal } from '../../src/incidents/intake-journal.js';
import { IncidentManager } from '../../src/incidents/manager.js';
import { compileRules } from '../../src/rules/compile.js';
import { FakeClock, SystemClock, type Clock } from '../../src/shared/clock.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { IncidentStore } from '../../src/store/types.js';
import { source } from '../sources/harness.js';
import { active, policy, rule, sig, target } from './harness.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const ping = rule({ id: 'ping-down', when: 'check.name == "icmp"' });

let dir: string;
let running: { manager: IncidentManager; store: IncidentStore } | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-intake-'));
});
afterEach(async () => {
  if (running) {
    await running.manager.stop();
    await running.store.close();
    running = null;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A daemon's intake: SQLite store, journal and manager; `down` makes every commit fail. */
async function start(opts: { segmentBytes?: number; maxQueue?: number; maxBatch?: number; logger?: Logger; clock?: Clock; batches?: number[]; rules?: RuleConfig[] } = {}) {
  const raw = new SqliteStore({ path: join(dir, 'incidents.db') });
  const state = { down: false, commits: 0 };
  const store = new Proxy(raw, {
    get(obj, prop, recv) {
      if (prop === 'commit') {
        return (ops: Parameters<IncidentStore['commit']>[0]) =>
          state.down ? Promise.reject(new Error('SQLITE_IOERR: disk I/O error')) : (state.commits++, obj.commit(ops));
      }
      const v = Reflect.get(obj, prop, recv);
      return typeof v === 'function' ? v.bind(obj) : v;
    },
  }) as IncidentStore;
  await store.open();
  const { engine } = compileRules(opts.rules ?? [ping], policy.uncategorized);
  const journal = await IntakeJournal.open({ dir: join(dir, 'intake'), logger: opts.logger ?? silentLogger(), segmentBytes: opts.segmentBytes });
  const manager = await IncidentManager.create({
    store,
    clock: opts.clock ?? new SystemClock(),
    logger: silentLogger(),
    current: () => ({ engine, policy, targets: new Map() }),
    journal,
    maxQueue: opts.maxQueue,
    maxBatch: opts.maxBatch,
    hooks: opts.batches ? { committed: (_seconds, n) => opts.batches!.push(n) } : undefined,
  });
  running = { manager, store };
  return { manager, store, state };
}

/**
 * As close to a kill -9 as one process gets: the batches in flight fail (the store is down) and
 * nothing is committed on the way out. The journal keeps what was answered.
 */
async function crash(d: Awaited<ReturnType<typeof start>>): Promise<void> {
  d.state.down = true;
  await d.manager.stop();
  await d.store.close();
  running = null;
}

const fails = (id: string, n: number, from = 0): Signal[] => Array.from({ length: n }, (_, i) => sig(target(id), 'fail', T0 + (from + i) * 1000));
/** As fails(), each with a reading of its own (its message): exact repeats fold in the queue, these do not. */
const readings = (id: string, n: number, from = 0): Signal[] => fails(id, n, from).map((s, i) => ({ ...s, message: `reading ${from + i}` }));

describe('alerts through the intake journal', () => {
  it('answers once the alerts are journaled and commits them right after', async () => {
    const d = await start();
    await d.manager.accept(fails('web-1', 3));
    await d.manager.flush();
    const open = await active(d.store);
    expect(open.map((i) => [i.target.id, i.occurrences])).toEqual([['web-1', 3]]);
  });

  it('commits journaled alerts without being asked, requests that arrive together in one commit', async () => {
    const d = await start();
    await Promise.all(['web-1', 'web-2', 'db-1', 'mail-1', 'dns-1'].map((id) => d.manager.accept(fails(id, 1))));
    // No flush: the alerts were answered, and the manager commits them on its own shortly after.
    const deadline = Date.now() + 5000;
    while ((await active(d.store)).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect((await active(d.store)).map((i) => i.target.id).sort()).toEqual(['db-1', 'dns-1', 'mail-1', 'web-1', 'web-2']);
    expect(d.state.commits).toBe(1);
    expect(d.manager.queued()).toBe(0);

    // One request after another (each answered before the next is sent) also share commits: a
    // small journaled batch waits a little for more instead of costing a store commit each.
    for (let i = 0; i < 10; i++) await d.manager.accept(fails(`srv-${i}`, 1));
    await d.manager.flush();
    expect(await active(d.store)).toHaveLength(15);
    expect(d.state.commits - 1).toBeLessThan(10);
  });

  it('a remainder that did not fit the last commit waits for more like any small batch, so the repeats that follow fold into it', async () => {
    // The commit delay only runs out when this clock is moved: nothing commits on time here.
    const batches: number[] = [];
    const d = await start({ clock: new FakeClock(T0), maxBatch: 100, batches });
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 5000;
      while (batches.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    // 150 alerts of ten targets: a full batch of 100 commits at once, 50 are left over. Each has a
    // reading of its own, so none folds into another in the queue.
    await Promise.all(Array.from({ length: 15 }, (_, i) => d.manager.accept(readings(`srv-${i % 10}`, 10, i * 10))));
    await waitFor(1);
    // Fifty more repeats of the same targets fill the waiting remainder up to a batch: one commit
    // of 100, where committing the remainder at once would have made two of 50.
    await Promise.all(Array.from({ length: 5 }, (_, i) => d.manager.accept(readings(`srv-${i}`, 10, 150 + i * 10))));
    await waitFor(2);
    expect(batches).toEqual([100, 100]);
    expect(d.manager.queued()).toBe(0);
    const open = await active(d.store);
    expect(open.map((i) => i.occurrences).reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('repeats of what the last commit recorded fold and wait up to a second; a record that may change an incident is committed within 100 ms', async () => {
    const clock = new FakeClock(T0);
    const batches: number[] = [];
    const d = await start({ clock, batches });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    await d.manager.accept(fails('web-1', 1));
    await clock.advance(JOURNAL_COMMIT_DELAY_MS);
    await settle();
    expect(batches).toEqual([1]);

    // Re-sent, one request each: nothing can change, so they wait for the steady delay, folded into one signal.
    for (let i = 1; i <= 5; i++) await d.manager.accept(fails('web-1', 1, i));
    await clock.advance(JOURNAL_COMMIT_DELAY_MS);
    await settle();
    expect(batches).toEqual([1]);
    expect(d.manager.queued()).toBe(1);
    await clock.advance(STEADY_COMMIT_DELAY_MS - JOURNAL_COMMIT_DELAY_MS);
    await settle();
    expect(batches).toEqual([1, 1]);
    expect((await active(d.store)).map((i) => [i.target.id, i.occurrences])).toEqual([['web-1', 6]]);

    // A repeat waits again; a new target's alert cuts the wait to 100 ms, and both go in that commit.
    await d.manager.accept(fails('web-1', 1, 6));
    await clock.advance(500);
    await d.manager.accept(fails('db-1', 1, 6));
    await clock.advance(JOURNAL_COMMIT_DELAY_MS);
    await settle();
    expect(batches).toEqual([1, 1, 2]);
    const open = await active(d.store);
    expect(open.map((i) => [i.target.id, i.occurrences]).sort()).toEqual([
      ['db-1', 1],
      ['web-1', 7],
    ]);
  });

  it('an incident opened by alerts folded before their commit counts every one of them', async () => {
    const d = await start();
    d.state.down = true;
    for (let i = 0; i < 3; i++) await d.manager.accept(fails('web-1', 1, i));
    expect(d.manager.queued()).toBe(1);
    d.state.down = false;
    await d.manager.flush();
    expect((await active(d.store)).map((i) => [i.target.id, i.occurrences, i.firstSeen])).toEqual([['web-1', 3, T0]]);
  });

  it('open_after counts alerts folded together as the alerts they stand for', async () => {
    const d = await start({ rules: [{ ...ping, openAfter: 3 }] });
    d.state.down = true;
    // Two alerts of one target fold into one signal: not yet three failures.
    for (let i = 0; i < 2; i++) await d.manager.accept(fails('web-1', 1, i));
    // Five of another: it opens, counting all five, at the first one's time.
    for (let i = 0; i < 5; i++) await d.manager.accept(fails('db-1', 1, i));
    expect(d.manager.queued()).toBe(2);
    d.state.down = false;
    await d.manager.flush();
    expect((await active(d.store)).map((i) => [i.target.id, i.occurrences, i.firstSeen])).toEqual([['db-1', 5, T0]]);
    // The third of web-1 opens it, with its three failures.
    await d.manager.accept(fails('web-1', 1, 2));
    await d.manager.flush();
    expect((await active(d.store)).map((i) => [i.target.id, i.occurrences]).sort()).toEqual([
      ['db-1', 5],
      ['web-1', 3],
    ]);
  });

  it('replays folded repeats after a crash: each alert answered counts once', async () => {
    const d = await start();
    await d.manager.accept(fails('web-1', 1));
    await d.manager.flush();
    d.state.down = true;
    // Answered and journaled; the second and third fold into the first while the store is down.
    for (let i = 1; i <= 3; i++) await d.manager.accept(fails('web-1', 1, i));
    expect(d.manager.queued()).toBe(1);
    await crash(d);

    const again = await start();
    await again.manager.flush();
    expect((await active(again.store)).map((i) => [i.target.id, i.occurrences])).toEqual([['web-1', 4]]);
  });

  it('takes alerts in while the store is down, and commits them after a crash and restart', async () => {
    const d = await start();
    d.state.down = true;
    // Answered although the store cannot commit: the journal has them.
    await d.manager.accept(fails('web-1', 2));
    await d.manager.accept(fails('db-1', 1));
    await crash(d);

    const again = await start();
    await again.manager.flush();
    const open = await active(again.store);
    expect(open.map((i) => [i.target.id, i.occurrences]).sort()).toEqual([
      ['db-1', 1],
      ['web-1', 2],
    ]);
  });

  it('replays only what the store had not committed: nothing counts twice', async () => {
    const d = await start();
    await d.manager.accept(fails('web-1', 2));
    await d.manager.flush(); // committed, with the journal mark
    d.state.down = true;
    await d.manager.accept(fails('web-1', 3, 2));
    await crash(d);

    const again = await start();
    await again.manager.flush();
    const [inc] = await active(again.store);
    expect(inc!.occurrences).toBe(5);
    expect(inc!.lastSeen).toBe(T0 + 4000);

    // And a second restart replays nothing more.
    await again.manager.stop();
    await again.store.close();
    running = null;
    const third = await start();
    await third.manager.flush();
    expect((await active(third.store))[0]!.occurrences).toBe(5);
  });

  it('replays a journaled request through its endpoint\'s normaliser, and moves past one that no longer turns into signals', async () => {
    const errors: string[] = [];
    const logger: Logger = { info: () => {}, warn: () => {}, error: (_o, msg) => errors.push(msg ?? ''), debug: () => {}, child: () => logger };
    const webhook = source({ id: 'webhook', type: 'generic' });
    const j = await IntakeJournal.open({ dir: join(dir, 'intake'), logger: silentLogger() });
    // Answered, then the daemon died before committing: one body this version refuses, one it takes.
    await j.append([], { type: 'generic', source: webhook, at: T0, body: '{"alerts":[]}' }).durable;
    await j.append([], { type: 'generic', source: webhook, at: T0, body: '{"alerts":[{"name":"icmp","target":"web-1","status":"firing"}]}' }).durable;
    await j.close();

    const again = await start({ logger });
    await again.manager.flush();
    expect((await active(again.store)).map((i) => [i.target.id, i.occurrences, i.firstSeen])).toEqual([['web-1', 1, T0]]);
    expect(errors).toHaveLength(1);

    // The store's mark has passed both: a second start neither replays nor complains again.
    await again.manager.stop();
    await again.store.close();
    running = null;
    const third = await start({ logger });
    await third.manager.flush();
    expect((await active(third.store))[0]!.occurrences).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('deletes journal segments once the store has committed them', async () => {
    const d = await start({ segmentBytes: 1024 });
    for (let i = 0; i < 40; i++) {
      await d.manager.accept(fails(`srv-${i}`, 2));
      await d.manager.flush();
    }
    const segments = readdirSync(join(dir, 'intake')).filter((f) => f.endsWith('.log'));
    // Each segment holds a few records; without deleting there would be over a dozen.
    expect(segments.length).toBeLessThanOrEqual(2);
    expect(await active(d.store)).toHaveLength(40);
  });

  it('counts journaled alerts not yet stored against max_queue', async () => {
    const d = await start({ maxQueue: 100 });
    d.state.down = true;
    // The first record is taken into a batch that keeps retrying; the next ones wait in the queue.
    await d.manager.accept(fails('mail-1', 1));
    // Taken once its commit delay is over and failing from then on.
    const deadline = Date.now() + 5000;
    while (d.manager.commitHealth() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await d.manager.accept(fails('web-1', 4));
    await d.manager.accept(fails('db-1', 3));
    expect(d.manager.queued()).toBe(7);
    d.state.down = false;
    await d.manager.flush();
    expect(d.manager.queued()).toBe(0);
  });

  it('numbers new alerts past the store mark when the journal files are gone, so a crash still replays them', async () => {
    const d = await start();
    for (let i = 0; i < 5; i++) await d.manager.accept(fails(`srv-${i}`, 1));
    await d.manager.flush(); // the mark is now 5
    await d.manager.stop();
    await d.store.close();
    running = null;
    // The segments vanish (deleted by hand, or by the old restart bug); the journal id stays.
    for (const f of readdirSync(join(dir, 'intake')).filter((n) => n.endsWith('.log'))) rmSync(join(dir, 'intake', f));

    const again = await start();
    again.state.down = true;
    await again.manager.accept(fails('late-1', 1));
    await again.manager.accept(fails('late-2', 1));
    await crash(again);

    const third = await start();
    await third.manager.flush();
    expect((await active(third.store)).map((i) => i.target.id).sort()).toEqual(['late-1', 'late-2', 'srv-0', 'srv-1', 'srv-2', 'srv-3', 'srv-4']);
  });

  it('says store commits are failing while it retries them, and stops saying so once one succeeds', async () => {
    const d = await start();
    expect(d.manager.commitHealth()).toBeNull();
    d.state.down = true;
    await d.manager.accept(fails('web-1', 1));
    const deadline = Date.now() + 5000;
    while (d.manager.commitHealth() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(d.manager.commitHealth()).toBe('failing: SQLITE_IOERR: disk I/O error');
    d.state.down = false;
    await d.manager.flush();
    expect(d.manager.commitHealth()).toBeNull();
  });
});
