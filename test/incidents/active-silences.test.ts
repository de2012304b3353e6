// The silences in memory: read from a real SQLite store, kept current on the fake clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMatcher, type Silence, type SilenceSubject } from '../../src/domain/silence.js';
import { createMetrics } from '../../src/api/metrics.js';
import { ActiveSilences } from '../../src/incidents/silences.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';

const T0 = Date.UTC(2026, 0, 1, 8);
const MIN = 60_000;

function silence(id: string, matchers: string[], startsAt: number, endsAt: number): Silence {
  return { id, tenant: 'default', matchers: matchers.map(parseMatcher), startsAt, endsAt, createdBy: 'ops', comment: id, createdAt: T0, updatedAt: T0 };
}

function subject(target: string, site = 'hq'): SilenceSubject {
  return { tenant: 'default', target, check: 'icmp', kind: 'server', source: 'probe', category: 'network', severity: 'major', site, labels: {} };
}

let dir: string;
let store: SqliteStore;
let other: SqliteStore;
let clock: FakeClock;
let silences: ActiveSilences;
let changes: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-silences-'));
  store = new SqliteStore({ path: join(dir, 'db') });
  other = new SqliteStore({ path: join(dir, 'db') });
  await store.open();
  await other.open();
  clock = new FakeClock(T0);
  changes = 0;
  silences = new ActiveSilences({ store, clock, logger: silentLogger(), refreshMs: MIN, changed: () => void changes++ });
  await silences.start();
});

afterEach(async () => {
  await silences.stop();
  await store.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
});

const ids = (s: SilenceSubject) => silences.match(s, clock.now())?.ids ?? [];

describe('ActiveSilences', () => {
  it('answers from memory for the silences of the target and those naming no single target', async () => {
    await store.createSilence(silence('ap-1-only', ['target=ap-1'], T0, T0 + 60 * MIN));
    await store.createSilence(silence('whole-site', ['site=hq', 'target!=core-sw'], T0, T0 + 60 * MIN));
    await store.createSilence(silence('ap-regex', ['target=~ap-.*', 'severity=minor'], T0, T0 + 60 * MIN));
    await silences.refresh();
    expect(ids(subject('ap-1'))).toEqual(['ap-1-only', 'whole-site']);
    expect(ids(subject('ap-2'))).toEqual(['whole-site']);
    expect(ids({ ...subject('ap-2'), severity: 'minor' })).toEqual(['ap-regex', 'whole-site']);
    expect(ids(subject('core-sw'))).toEqual([]);
    expect(ids(subject('ap-1', 'branch'))).toEqual(['ap-1-only']);
  });

  it('picks up a silence set through another instance on its timer, and a start and an end on time', async () => {
    await other.createSilence(silence('from-elsewhere', ['target=ap-1'], T0, T0 + 30 * MIN));
    expect(ids(subject('ap-1'))).toEqual([]);
    await clock.advance(MIN);
    await silences.refresh(); // waits for the timer's read in flight
    expect(ids(subject('ap-1'))).toEqual(['from-elsewhere']);
    expect(changes).toBe(1);

    await other.createSilence(silence('later', ['target=ap-2'], T0 + 10 * MIN, T0 + 20 * MIN));
    await clock.advance(MIN);
    await silences.refresh();
    expect(ids(subject('ap-2'))).toEqual([]);
    await clock.advance(8 * MIN);
    expect(ids(subject('ap-2'))).toEqual(['later']);
    const before = changes;
    await clock.advance(10 * MIN); // T0 + 20 min: it ends; the timer reads again and says so
    await silences.refresh();
    expect(ids(subject('ap-2'))).toEqual([]);
    expect(changes).toBeGreaterThan(before);
    expect(silences.current().map((s) => s.id)).toEqual(['from-elsewhere']);
  });
});

describe('the incidentd_silences gauge', () => {
  it('counts silences by state at each scrape: pending and active from memory, ended ones from the store', async () => {
    const metrics = createMetrics({ countActive: () => store.countActive(), silenceCounts: () => silences.counts(clock.now()) });
    const gauge = async () => {
      const text = await metrics.registry.getSingleMetricAsString('incidentd_silences');
      return Object.fromEntries([...text.matchAll(/^incidentd_silences\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    };
    await store.createSilence(silence('old', ['target=a'], T0 - 120 * MIN, T0 - 60 * MIN));
    await store.createSilence(silence('now', ['target=b'], T0, T0 + 30 * MIN));
    await store.createSilence(silence('soon', ['target=c'], T0 + 10 * MIN, T0 + 90 * MIN));
    // Set through another instance: seen once refreshed.
    await other.createSilence(silence('other', ['target=d'], T0, T0 + 90 * MIN));
    await silences.refresh();
    expect(await gauge()).toEqual({ pending: 1, active: 2, expired: 1 });
    // 'soon' starts and 'now' ends with the clock (the refresh timer runs on the way).
    await clock.advance(45 * MIN);
    expect(await gauge()).toEqual({ pending: 0, active: 2, expired: 2 });
    await store.expireSilence('other', clock.now());
    await silences.refresh();
    expect(await gauge()).toEqual({ pending: 0, active: 1, expired: 3 });
  });

  it('has no series before the store was read', async () => {
    const unread = new ActiveSilences({ store, clock, logger: silentLogger() });
    const metrics = createMetrics({ countActive: () => store.countActive(), silenceCounts: () => unread.counts(clock.now()) });
    expect(await metrics.registry.getSingleMetricAsString('incidentd_silences')).not.toMatch(/state=/);
  });
});
