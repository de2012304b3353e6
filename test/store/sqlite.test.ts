import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { measureRawUpserts } from '../../bench/sqlite-raw.js';
import { InstanceLockedError, StoreUnavailableError } from '../../src/shared/errors.js';
import { SCHEMA_VERSION, SqliteStore, StoreSchemaTooNewError } from '../../src/store/sqlite/index.js';
import type { IncidentFilter, OpResult, StoreOp } from '../../src/store/types.js';
import { draft, fail } from './ops.js';
import type { Incident } from '../../src/domain/incident.js';
import { INCIDENT_SORTS, sortOrder, sortValue, type IncidentSort, type Page } from '../../src/domain/paging.js';
import type { StoreHarness } from './contract.js';
import { storeContract } from './contract.js';
import { silenceContract } from './silence-contract.js';
import { tenantContract } from './tenant-contract.js';
import { revisionContract } from './revision-contract.js';
import { userContract } from './user-contract.js';
import { historyContract } from './history-contract.js';
import { reportContract } from './report-contract.js';
import { problemReportContract } from './problem-report-contract.js';
import { mailOutboxContract, reportBatchContract } from './bulk-contract.js';
import { receiptContract } from './receipt-contract.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T0 = Date.UTC(2026, 0, 1);

/** Every instance is another SqliteStore (another connection) on the same file. */
async function makeSqlite(): Promise<StoreHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'incidentd-sqlite-'));
  const path = join(dir, 'incidentd.db');
  const opened: SqliteStore[] = [];
  const make = async (): Promise<SqliteStore> => {
    const s = new SqliteStore({ path });
    await s.open();
    opened.push(s);
    return s;
  };
  return {
    store: await make(),
    another: make,
    reopen: make,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

storeContract('sqlite', makeSqlite);
silenceContract('sqlite', makeSqlite);
tenantContract('sqlite', makeSqlite);
revisionContract('sqlite', makeSqlite);
userContract('sqlite', makeSqlite);
historyContract('sqlite', makeSqlite);
reportContract('sqlite', makeSqlite);
problemReportContract('sqlite', makeSqlite);
mailOutboxContract('sqlite', makeSqlite);
reportBatchContract('sqlite', makeSqlite);
receiptContract('sqlite', makeSqlite);

describe('SqliteStore on disk', () => {
  let dir: string;
  const toClose: Array<{ close(): unknown }> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'incidentd-sqlite-'));
  });

  afterEach(async () => {
    for (const c of toClose.splice(0)) await c.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function openStore(path: string, opts: { busyTimeoutMs?: number; lockTimeoutMs?: number } = {}) {
    const s = new SqliteStore({ path, ...opts });
    await s.open();
    toClose.push(s);
    return s;
  }

  function raw(path: string): Database.Database {
    const db = new Database(path);
    toClose.push(db);
    return db;
  }

  it('creates missing parent directories and describes itself with the absolute path', async () => {
    const path = join(dir, 'var', 'lib', 'incidentd', 'incidentd.db');
    const s = new SqliteStore({ path: relative(process.cwd(), path) });
    await s.open();
    toClose.push(s);
    expect(s.describe()).toBe(`sqlite:${path}`);
    expect(await s.ping()).toBe(true);
  });

  it('writes WAL mode and the schema version into the file', async () => {
    const path = join(dir, 'a.db');
    await openStore(path);
    const db = raw(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
    expect(Number(row.value)).toBe(SCHEMA_VERSION);
  });

  it('gives a new file 16 KiB pages; a file of 4 KiB pages from before keeps them and works', async () => {
    const fresh = join(dir, 'new.db');
    await openStore(fresh);
    expect(raw(fresh).pragma('page_size', { simple: true })).toBe(16_384);

    // A file written before page_size was set: 4 KiB pages, already in WAL mode.
    const old = join(dir, 'old.db');
    const before = new Database(old);
    before.pragma('page_size = 4096');
    before.pragma('journal_mode = WAL');
    before.exec('CREATE TABLE placeholder (x INTEGER)');
    before.close();
    const s1 = await openStore(old);
    const [r] = await s1.commit([fail('fp', T0)]);
    await s1.close();
    const s2 = await openStore(old);
    expect(await s2.get((r as Extract<OpResult, { kind: 'fail' }>).number)).not.toBeNull();
    expect(raw(old).pragma('page_size', { simple: true })).toBe(4096);
  });

  it('opens the same file again without losing data (tables are created idempotently)', async () => {
    const path = join(dir, 'a.db');
    const s1 = await openStore(path);
    const [r] = await s1.commit([fail('fp', T0)]);
    await s1.close();
    const s2 = await openStore(path);
    await s2.close();
    const s3 = await openStore(path);
    expect(await s3.get((r as Extract<OpResult, { kind: 'fail' }>).number)).not.toBeNull();
  });

  it('upgrades a version 3 file: pending deliveries keep their per-incident order', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    await s.commit([fail('fp', T0), { kind: 'notify', fingerprint: 'fp', channels: ['hook'] }]);
    await s.commit([{ kind: 'resolve', at: T0 + 1, fingerprint: 'fp', actor: 'system', message: 'ok' }, { kind: 'notify', fingerprint: 'fp', channels: [] }]);
    await s.close();
    // Back to what version 3 wrote: no incident column, no index on it.
    const db = raw(path);
    db.exec("DROP INDEX deliveries_order; ALTER TABLE deliveries DROP COLUMN incident; UPDATE meta SET value = '3' WHERE key = 'schema_version'");
    db.close();
    const upgraded = await openStore(path);
    const first = await upgraded.claimDeliveries(T0 + 10, 10, 60_000, 'w');
    expect(first.map((d) => d.event.type)).toEqual(['incident.opened']);
    await upgraded.completeDelivery(first[0]!.id, { delivered: true, at: T0 + 10 });
    expect((await upgraded.claimDeliveries(T0 + 10, 10, 60_000, 'w')).map((d) => d.event.type)).toEqual(['incident.resolved']);
  });

  it('upgrades a version 13 file: escalated entries get their tier from the message, the escalations report counts them', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    const [opened] = await s.commit([fail('fp', T0)]);
    await s.close();
    const number = (opened as Extract<OpResult, { kind: 'fail' }>).number;
    // A version 13 file: no tier column, the old index, entries in the three wordings and one naming none.
    const db = raw(path);
    db.exec(`DROP INDEX timeline_escalated; ALTER TABLE timeline DROP COLUMN tier;
      CREATE INDEX timeline_escalated ON timeline (at, incident_seq, message) WHERE action = 'escalated';
      UPDATE meta SET value = '13' WHERE key = 'schema_version'`);
    const add = db.prepare("INSERT INTO timeline (incident_seq, at, actor, action, message) VALUES (1, ?, 'system', 'escalated', ?)");
    add.run(T0 + 1, 'not acknowledged within 15m at L1; escalated to L2');
    add.run(T0 + 2, 'escalated by hand from L2 to L3: vendor call');
    add.run(T0 + 3, 'severity raised to critical; L2 takes over');
    add.run(T0 + 4, 'severity raised to major');
    db.close();
    const upgraded = await openStore(path);
    const tiers = (await upgraded.get(number))!.timeline.filter((t) => t.action === 'escalated').map((t) => t.tier ?? null);
    expect(tiers).toEqual(['L2', 'L3', 'L2', null]);
    expect(await upgraded.escalations({ boundaries: [T0, T0 + 60_000] })).toEqual([
      { period: 0, tier: 'L2', count: 2 },
      { period: 0, tier: 'L3', count: 1 },
    ]);
    await upgraded.close();
    const after = raw(path);
    const index = after.prepare("SELECT sql FROM sqlite_master WHERE name = 'timeline_escalated'").get() as { sql: string };
    after.close();
    expect(index.sql).toContain('(at, incident_seq, tier)');
  });

  it('keeps a new incident\'s opened entry in its row; a version 14 file keeps its stored entries, each shown once', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    await s.commit([fail('old', T0)]);
    await s.close();
    // A version 14 file: no opened_by / first_message columns, the opened entry as a timeline row.
    const db = raw(path);
    db.exec(`ALTER TABLE incidents DROP COLUMN opened_by; ALTER TABLE incidents DROP COLUMN first_message;
      UPDATE meta SET value = '14' WHERE key = 'schema_version'`);
    db.prepare("INSERT INTO timeline (incident_seq, at, actor, action, message) VALUES (1, ?, 'rule-x', 'opened', 'down')").run(T0);
    db.close();
    const upgraded = await openStore(path);
    const [fresh] = await upgraded.commit([fail('new', T0 + 5)]);
    await upgraded.commit([{ kind: 'resolve', at: T0 + 9, fingerprint: 'new', actor: 'system', message: 'recovered' }]);
    const old = (await upgraded.get('INC-000001'))!;
    expect(old.timeline.filter((t) => t.action === 'opened')).toEqual([{ at: T0, actor: 'rule-x', action: 'opened', message: 'down' }]);
    const created = (await upgraded.get((fresh as Extract<OpResult, { kind: 'fail' }>).number))!;
    expect(created.timeline.map((t) => [t.action, t.at])).toEqual([
      ['opened', T0 + 5],
      ['resolved', T0 + 9],
    ]);
    expect(created.timeline[0]).toEqual({ at: T0 + 5, actor: created.ruleId, action: 'opened', message: created.lastMessage });
    await upgraded.close();
    // Stored as one row: no timeline row for the new incident's opening.
    const after = raw(path);
    const rows = after.prepare("SELECT incident_seq, action FROM timeline WHERE action = 'opened' ORDER BY incident_seq").all();
    after.close();
    expect(rows).toEqual([{ incident_seq: 1, action: 'opened' }]);
  });

  it('upgrades a version 2 file: channels told of an incident still hear its end, its timers start silently', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    const [opened] = await s.commit([fail('fp', T0), { kind: 'notify', fingerprint: 'fp', channels: ['mail', 'hook'] }]);
    await s.close();
    const db = raw(path);
    db.exec(`DROP INDEX incidents_timers; DROP INDEX deliveries_order;
      ALTER TABLE incidents DROP COLUMN escalation; ALTER TABLE incidents DROP COLUMN notified;
      ALTER TABLE incidents DROP COLUMN tickets; ALTER TABLE incidents DROP COLUMN subscribers;
      ALTER TABLE incidents DROP COLUMN next_timer_at; ALTER TABLE deliveries DROP COLUMN incident;
      UPDATE meta SET value = '2' WHERE key = 'schema_version'`);
    db.close();
    const upgraded = await openStore(path);
    const number = (opened as Extract<OpResult, { kind: 'fail' }>).number;
    expect([...(await upgraded.get(number))!.notified].sort()).toEqual(['hook', 'mail']);
    const [due] = await upgraded.dueEscalations(T0 + 1, 10);
    expect(due).toMatchObject({ number, escalation: { severity: null, nextTimerAt: T0 } });
  });

  it('upgrades a version 15 file: the indexes without the tenant go, lists and counts read the same', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    const ops: StoreOp[] = [];
    for (let i = 0; i < 60; i++) {
      const d = draft(`fp-${i}`);
      d.tenant = `tenant-${i % 3}`;
      ops.push({ kind: 'fail', at: T0 + ((i * 7) % 13) * 1000, count: 1, reopenWindowMs: 0, draft: d });
    }
    await s.commit(ops);
    await s.commit([{ kind: 'resolve', at: T0 + 50_000, fingerprint: 'fp-4', actor: 'system', message: 'ok' }]);
    const pagesOf = async (st: SqliteStore) => {
      const out: string[] = [];
      for (const sort of INCIDENT_SORTS) out.push(...(await st.list({}, 25, null, sort)).items.map((i) => `${sort} ${i.number}`));
      return out;
    };
    const listed = await pagesOf(s);
    const counted = await s.countActive();
    await s.close();
    // The file as version 15 wrote it.
    const db = raw(path);
    db.exec(`DROP INDEX incidents_resolved_due;
      CREATE INDEX incidents_status ON incidents (status, seq);
      CREATE INDEX incidents_severity ON incidents (severity, seq);
      CREATE INDEX incidents_priority ON incidents (priority, seq);
      CREATE INDEX incidents_opened ON incidents (first_seen, seq);
      CREATE INDEX incidents_last_seen ON incidents (last_seen, seq);
      CREATE INDEX incidents_active_severity ON incidents (severity) WHERE status IN ('open', 'acknowledged');
      CREATE INDEX incidents_report ON incidents
        (first_seen, tenant, category, severity, impact, priority, tier, source, target_site, target_id, acknowledged_at, resolved_at);
      UPDATE meta SET value = '15' WHERE key = 'schema_version'`);
    db.close();
    const upgraded = await openStore(path);
    const check = raw(path);
    const names = (check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'").all() as { name: string }[]).map((r) => r.name);
    expect(names).toContain('incidents_resolved_due');
    for (const gone of ['incidents_status', 'incidents_severity', 'incidents_priority', 'incidents_opened', 'incidents_last_seen', 'incidents_active_severity', 'incidents_report']) {
      expect(names).not.toContain(gone);
    }
    expect(await pagesOf(upgraded)).toEqual(listed);
    expect(await upgraded.countActive()).toEqual(counted);
    expect(counted.major).toBe(59);
    // The close sweep reads the new index of resolved incidents.
    expect(await upgraded.closeResolved(T0 + 60_000, T0 + 70_000, 10)).toEqual(['INC-000005']);
  });

  it('refuses a database written by a newer schema, saying what to do', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    await s.close();
    raw(path).prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    const newer = new SqliteStore({ path });
    const err = await newer.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSchemaTooNewError);
    expect((err as Error).message).toMatch(/upgrade incidentd/);
    expect(await newer.ping()).toBe(false);
  });

  it('opened exclusive (as the daemon does), keeps the database to itself until closed', async () => {
    const path = join(dir, 'a.db');
    const shared = await openStore(path); // a database used before, in shared mode
    await shared.commit([fail('fp-1', T0)]);
    await shared.close();
    const first = new SqliteStore({ path, exclusive: true });
    await first.open();
    expect((await first.commit([fail('fp-2', T0)]))[0]).toMatchObject({ outcome: 'opened' });
    const second = new SqliteStore({ path, exclusive: true, busyTimeoutMs: 20 });
    const err = await second.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstanceLockedError);
    expect((err as Error).message).toMatch(/another incidentd .* holds the SQLite database .*a\.db; .*MongoDB/);
    // Nor can an ordinary connection read it meanwhile.
    const other = new SqliteStore({ path, busyTimeoutMs: 20, lockTimeoutMs: 100 });
    await expect(other.open()).rejects.toThrow(/locked/);
    await first.close();
    await second.open();
    expect(Object.values(await second.countActive()).reduce((a, b) => a + b, 0)).toBe(2);
    await second.close();
  });

  it('fails open() with StoreUnavailableError when the path cannot hold a database', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const s = new SqliteStore({ path: join(blocker, 'incidentd.db') });
    await expect(s.open()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('refuses work before open and after close', async () => {
    const s = new SqliteStore({ path: join(dir, 'a.db') });
    await expect(s.commit([fail('fp', T0)])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(s.get('INC-000001')).rejects.toBeInstanceOf(StoreUnavailableError);
    await s.open();
    expect(await s.ping()).toBe(true);
    await s.close();
    await s.close();
    expect(await s.ping()).toBe(false);
    await expect(s.list({}, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('enforces one active incident per fingerprint in SQLite itself, not only in store code', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path);
    await s.commit([fail('fp', T0)]);
    const db = raw(path);
    const copy = db.prepare(
      `INSERT INTO incidents (seq, fingerprint, status, category, severity, impact, tier, priority, title,
         description, runbook, rule_id, source, target_id, target_kind, target_name, target_site, target_labels,
         check_name, check_type, labels, first_seen, last_seen, occurrences, last_message)
       SELECT 2 AS seq, fingerprint, status, category, severity, impact, tier, priority, title,
         description, runbook, rule_id, source, target_id, target_kind, target_name, target_site, target_labels,
         check_name, check_type, labels, first_seen, last_seen, occurrences, last_message
       FROM incidents WHERE seq = 1`,
    );
    expect(() => copy.run()).toThrow(/UNIQUE/);
    await s.commit([{ kind: 'resolve', at: T0 + 1, fingerprint: 'fp', actor: 'system', message: 'ok' }]);
    // With the first one resolved, a second incident of the fingerprint is allowed.
    expect(() => copy.run()).not.toThrow();
  });

  it('waits for another connection’s write lock and then commits', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path, { busyTimeoutMs: 5 });
    const locker = raw(path);
    locker.exec('BEGIN IMMEDIATE');
    let settled = false;
    const pending = s.commit([fail('fp', T0)]).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 60));
    expect(settled).toBe(false);
    // Reads go on while the lock is held (WAL).
    expect(await s.countActive()).toEqual({ minor: 0, medium: 0, severe: 0, major: 0 });
    locker.exec('COMMIT');
    const [r] = await pending;
    expect(r).toMatchObject({ kind: 'fail', outcome: 'opened', number: 'INC-000001' });
  });

  it('gives up with StoreUnavailableError when the lock is held too long, and recovers after', async () => {
    const path = join(dir, 'a.db');
    const s = await openStore(path, { busyTimeoutMs: 5, lockTimeoutMs: 50 });
    const locker = raw(path);
    locker.exec('BEGIN IMMEDIATE');
    const err = await s.commit([fail('fp', T0)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/locked/);
    locker.exec('ROLLBACK');
    expect(await s.countActive()).toEqual({ minor: 0, medium: 0, severe: 0, major: 0 });
    const [r] = await s.commit([fail('fp', T0)]);
    expect(r).toMatchObject({ outcome: 'opened', number: 'INC-000001' });
  });

  it('keeps dedup and numbering right with another process writing the same fingerprints', async () => {
    const path = join(dir, 'shared.db');
    const s = await openStore(path, { busyTimeoutMs: 20 });
    const fps = Array.from({ length: 1000 }, (_, i) => `fp-${i}`);
    const plan = (order: string[]): StoreOp[][] => {
      const out: StoreOp[][] = [];
      for (let pass = 0; pass < 3; pass++) {
        for (let i = 0; i < order.length; i += 50) out.push(order.slice(i, i + 50).map((fp) => fail(fp, T0 + pass)));
      }
      return out;
    };
    const storeUrl = pathToFileURL(join(ROOT, 'src/store/sqlite/index.ts')).href;
    // The child writes the fingerprints in reverse order; it prints its results as JSON lines.
    const code = `
      const { SqliteStore } = await import(${JSON.stringify(storeUrl)});
      const s = new SqliteStore({ path: process.env.STORE_PATH, busyTimeoutMs: 20 });
      await s.open();
      const { readFileSync } = await import('node:fs');
      const plan = JSON.parse(readFileSync(process.env.PLAN_FILE, 'utf8'));
      process.stdout.write('ready\\n');
      // Wait for the go, so start-up time does not decide who writes first.
      await new Promise((resolve) => process.stdin.once('data', resolve));
      for (const ops of plan) {
        const results = await s.commit(ops);
        process.stdout.write(JSON.stringify(results) + '\\n');
      }
      await s.close();
    `;
    const planFile = join(dir, 'child-plan.json');
    await writeFile(planFile, JSON.stringify(plan([...fps].reverse())));
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', STORE_PATH: path, PLAN_FILE: planFile },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let errOut = '';
    child.stderr.on('data', (b: Buffer) => (errOut += b.toString()));
    // Start once the child has committed its first batch, so both write while the other does.
    const childStarted = new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.startsWith('ready\n') && child.stdin.writable) child.stdin.end('go\n');
        if (out.split('\n').length > 2) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await Promise.race([childStarted, exited]);

    const mine: OpResult[] = [];
    for (const ops of plan(fps)) {
      mine.push(...(await s.commit(ops)));
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited, errOut).toBe(0);
    const theirs = out
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0)
      .flatMap((l) => JSON.parse(l) as OpResult[]);

    const all = [...mine, ...theirs].map((r) => r as Extract<OpResult, { kind: 'fail' }>);
    expect(all).toHaveLength(6000);
    const opened = all.filter((r) => r.outcome === 'opened');
    expect(opened).toHaveLength(1000);
    expect(new Set(opened.map((r) => r.number)).size).toBe(1000);
    expect(theirs.filter((r) => r.kind === 'fail' && r.outcome === 'opened').length).toBeGreaterThan(0);
    const numberOf = new Map(opened.map((r) => [r.fingerprint, r.number]));
    for (const r of all) expect(r.number).toBe(numberOf.get(r.fingerprint));
    expect(await s.countActive()).toEqual({ minor: 0, medium: 0, severe: 0, major: 1000 });
  });

  it('reads a page in every list order through an index, never sorting the table', async () => {
    const s = await openStore(join(dir, 'plan.db'));
    const ops: StoreOp[] = [];
    for (let i = 0; i < 3000; i++) ops.push(fail(`fp-${i}`, T0 + ((i * 7919) % 3000) * 1000));
    await s.commit(ops);
    for (const sort of INCIDENT_SORTS) {
      const first = await s.list({}, 50, null, sort);
      for (const cursor of [null, first.next]) {
        const plan = s.explainList({}, 50, cursor, sort);
        // A sort of the whole table shows as a temporary B-tree; an index (or the rowid) read in order does not.
        expect({ sort, cursor, plan: plan.filter((d) => /TEMP B-TREE/.test(d)) }).toEqual({ sort, cursor, plan: [] });
        if (!sort.endsWith('number')) expect({ sort, plan }).toEqual({ sort, plan: expect.arrayContaining([expect.stringMatching(/USING (COVERING )?INDEX incidents_/)]) });
      }
    }
    // A list scoped to one tenant (every scoped user's list) reads an index leading with the tenant.
    for (const sort of INCIDENT_SORTS) {
      const plan = s.explainList({ tenant: ['default'] }, 50, null, sort);
      expect({ sort, plan: plan.filter((d) => /TEMP B-TREE/.test(d)) }).toEqual({ sort, plan: [] });
      expect({ sort, plan }).toEqual({ sort, plan: expect.arrayContaining([expect.stringMatching(/USING (COVERING )?INDEX incidents_tenant/)]) });
    }
    // The keyset condition seeks into the index (a range), rather than filtering a full scan; with
    // one tenant in the table, the unscoped list reads that tenant's index directly.
    expect(s.explainList({}, 50, (await s.list({}, 50, null, 'opened')).next, 'opened')).toEqual([
      expect.stringMatching(/^SEARCH incidents USING INDEX incidents_tenant_opened \(tenant=\? AND first_seen>\?\)/),
    ]);
  });

  // A list of several tenants (or of all) merges each tenant's range (src/store/sqlite/list.ts):
  // the pages must be those of one ordered table, whatever the tenants' share of it.
  describe('lists of several tenants, merged tenant by tenant', () => {
    const SEVERITY = ['minor', 'medium', 'severe', 'major'] as const;
    const PRIORITY = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;

    /** `count` incidents over `tenants` tenants (uneven shares), with repeated opening times; every third resolved. */
    async function seeded(name: string, tenants: number, count: number) {
      const s = await openStore(join(dir, name));
      const ops: StoreOp[] = [];
      for (let i = 0; i < count; i++) {
        const d = draft(`fp-${i}`);
        d.tenant = `tenant-${String((i * i) % tenants).padStart(3, '0')}`;
        d.classification = { ...d.classification, category: i % 2 === 0 ? 'network' : 'power', severity: SEVERITY[i % 4]!, priority: PRIORITY[(i * 3) % 5]! };
        d.title = i % 7 === 0 ? `toner low ${i}` : `host ${i} down`;
        // Few distinct opening times: ties, broken by number, cross tenants.
        ops.push({ kind: 'fail', at: T0 + ((i * 7919) % 37) * 1000, count: 1, reopenWindowMs: 0, draft: d });
      }
      await s.commit(ops);
      await s.commit(Array.from({ length: count }, (_, i) => i).filter((i) => i % 3 === 0).map((i) => ({ kind: 'resolve', at: T0 + 99_000, fingerprint: `fp-${i}`, actor: 'system', message: 'ok' })));
      return s;
    }

    /** Every page of the list, followed by its cursors. */
    async function pages(s: SqliteStore, filter: IncidentFilter, sort: IncidentSort, size: number): Promise<string[][]> {
      const out: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: Page<Incident> = await s.list(filter, size, cursor, sort);
        out.push(page.items.map((i) => i.number));
        cursor = page.next;
      } while (cursor !== null && out.length < 1000);
      return out;
    }

    /** What the pages must be: every matching incident (read one by one) sorted in JS, cut into pages. */
    async function expected(s: SqliteStore, count: number, filter: IncidentFilter, sort: IncidentSort, size: number): Promise<string[][]> {
      const all: Incident[] = [];
      for (let seq = 1; seq <= count; seq++) all.push((await s.get(`INC-${String(seq).padStart(6, '0')}`))!);
      const order = sortOrder(sort);
      const sign = order.descending ? -1 : 1;
      const matching = all
        .filter((i) => (filter.tenant === undefined || filter.tenant.includes(i.tenant)) && (filter.status === undefined || filter.status.includes(i.status)))
        .filter((i) => (filter.severity === undefined || filter.severity.includes(i.severity)) && (filter.category === undefined || i.category === filter.category))
        .filter((i) => filter.text === undefined || i.title.includes(filter.text))
        .sort((a, b) => sign * (sortValue(order, a) - sortValue(order, b) || a.seq - b.seq));
      const out: string[][] = [];
      for (let i = 0; i < matching.length; i += size) out.push(matching.slice(i, i + size).map((x) => x.number));
      return out.length === 0 ? [[]] : out;
    }

    it('pages through every order of all tenants, and of some, as one ordered table', async () => {
      const s = await seeded('three.db', 3, 300);
      const filters: IncidentFilter[] = [
        {},
        { status: ['open'] },
        { severity: ['major', 'minor'] },
        { category: 'power', status: ['resolved'] },
        { text: 'toner' },
        { tenant: ['tenant-001', 'tenant-002'] },
        { tenant: ['tenant-002', 'tenant-000', 'tenant-002'], status: ['open', 'acknowledged'] },
        { tenant: ['tenant-001', 'nobody'] },
        { text: 'nothing matches this' },
      ];
      for (const filter of filters) {
        for (const sort of INCIDENT_SORTS) {
          expect({ filter, sort, pages: await pages(s, filter, sort, 17) }).toEqual({ filter, sort, pages: await expected(s, 300, filter, sort, 17) });
        }
      }
    });

    it('reads each tenant through its index and merges them without sorting', async () => {
      const s = await seeded('plan.db', 3, 300);
      for (const sort of INCIDENT_SORTS) {
        const next = (await s.list({}, 20, null, sort)).next;
        const plan = s.explainList({}, 20, next, sort);
        expect({ sort, plan: plan.filter((d) => /TEMP B-TREE/.test(d)) }).toEqual({ sort, plan: [] });
        expect({ sort, plan }).toEqual({ sort, plan: expect.arrayContaining(['MERGE (UNION ALL)', expect.stringMatching(/^SEARCH incidents USING (COVERING )?INDEX incidents_tenant\w* \(tenant=\?/)]) });
      }
    });

    it('merges more tenants than one statement takes (an MSP with hundreds of customers)', async () => {
      const s = await seeded('many.db', 600, 1500);
      for (const sort of ['-opened', 'lastSeen', '-number', '-severity', 'priority'] as const) {
        for (const filter of [{}, { status: ['open'] }] as IncidentFilter[]) {
          expect({ filter, sort, pages: await pages(s, filter, sort, 40) }).toEqual({ filter, sort, pages: await expected(s, 1500, filter, sort, 40) });
        }
      }
    });

    it('counts active incidents over every tenant', async () => {
      const s = await seeded('count.db', 3, 300);
      const all = await s.countActive();
      const some = await s.countActive(['tenant-000', 'tenant-001', 'tenant-002']);
      expect(all).toEqual(some);
      // 200 active of 300; severity cycles with i, so each has 50.
      expect(all).toEqual({ minor: 50, medium: 50, severe: 50, major: 50 });
    });
  });

  it('measures the raw upsert rate for the benchmark', async () => {
    const { perSecond } = await measureRawUpserts(join(dir, 'bench'), 3000);
    expect(Number.isFinite(perSecond)).toBe(true);
    expect(perSecond).toBeGreaterThan(0);
  });
});
