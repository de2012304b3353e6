import type { Database } from 'better-sqlite3';
import { StoreSchemaTooNewError } from './errors.js';

/**
 * Migrations, in order. Entry i brings a database from version i to version i+1. Never edit a
 * released entry: append a new one, so files written by older versions upgrade step by step.
 */
const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) STRICT;
      INSERT OR IGNORE INTO counters (name, value) VALUES ('incident', 0);

      CREATE TABLE IF NOT EXISTS incidents (
        seq             INTEGER PRIMARY KEY,
        fingerprint     TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'closed')),
        category        TEXT NOT NULL,
        severity        TEXT NOT NULL,
        impact          TEXT NOT NULL,
        tier            TEXT NOT NULL,
        priority        TEXT NOT NULL,
        title           TEXT NOT NULL,
        description     TEXT NOT NULL,
        runbook         TEXT NOT NULL,
        rule_id         TEXT NOT NULL,
        source          TEXT NOT NULL,
        target_id       TEXT NOT NULL,
        target_kind     TEXT NOT NULL,
        target_name     TEXT NOT NULL,
        target_site     TEXT NOT NULL,
        target_labels   TEXT NOT NULL,
        check_name      TEXT NOT NULL,
        check_type      TEXT NOT NULL,
        labels          TEXT NOT NULL,
        first_seen      INTEGER NOT NULL,
        last_seen       INTEGER NOT NULL,
        occurrences     INTEGER NOT NULL,
        last_message    TEXT NOT NULL,
        acknowledged_at INTEGER,
        acknowledged_by TEXT,
        resolved_at     INTEGER,
        resolved_by     TEXT,
        closed_at       INTEGER,
        reopen_count    INTEGER NOT NULL DEFAULT 0,
        flapping        INTEGER NOT NULL DEFAULT 0,
        related         TEXT NOT NULL DEFAULT '[]',
        -- The manager's FingerprintState (JSON) while the incident is active.
        hysteresis      TEXT
      ) STRICT;

      -- Dedup: at most one active incident per fingerprint, whoever writes.
      CREATE UNIQUE INDEX IF NOT EXISTS incidents_active_fingerprint
        ON incidents (fingerprint) WHERE status IN ('open', 'acknowledged');
      -- countActive reads only this small index.
      CREATE INDEX IF NOT EXISTS incidents_active_severity
        ON incidents (severity) WHERE status IN ('open', 'acknowledged');
      -- Inactive incidents by fingerprint, for reopening. Together with the active index above it
      -- covers every status, so the fingerprint filter needs no third index: fingerprints are
      -- hashes, so each index on them is written at random places, and a new incident (the hot
      -- path) touches only the active one.
      CREATE INDEX IF NOT EXISTS incidents_inactive_fingerprint
        ON incidents (fingerprint, resolved_at) WHERE status IN ('resolved', 'closed');
      -- List filters, each ending in seq for newest-first keyset pagination.
      CREATE INDEX IF NOT EXISTS incidents_status   ON incidents (status, seq);
      CREATE INDEX IF NOT EXISTS incidents_severity ON incidents (severity, seq);
      CREATE INDEX IF NOT EXISTS incidents_category ON incidents (category, seq);
      CREATE INDEX IF NOT EXISTS incidents_site     ON incidents (target_site, seq);
      CREATE INDEX IF NOT EXISTS incidents_target   ON incidents (target_id, seq);

      CREATE TABLE IF NOT EXISTS timeline (
        id           INTEGER PRIMARY KEY,
        incident_seq INTEGER NOT NULL REFERENCES incidents (seq) ON DELETE CASCADE,
        at           INTEGER NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL,
        message      TEXT NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS timeline_incident ON timeline (incident_seq, id);

      -- States of fingerprints without an active incident (still counting towards open_after,
      -- recovering, or flapping). Keyed by text only: WITHOUT ROWID keeps one B-tree, not two.
      CREATE TABLE IF NOT EXISTS fingerprint_state (
        fingerprint TEXT PRIMARY KEY,
        data        TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

    `);
  },
  (db) => {
    db.exec(`
      -- The notification outbox: one row per event and channel, written in the same transaction as
      -- the incident change it announces. While claimed, next_at is when the claim runs out, so a
      -- delivery held by a crashed instance falls due again by itself.
      CREATE TABLE IF NOT EXISTS deliveries (
        id          TEXT PRIMARY KEY,
        event_id    TEXT NOT NULL,
        channel_id  TEXT NOT NULL,
        event       TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        next_at     INTEGER NOT NULL,
        lease_owner TEXT,
        last_error  TEXT,
        reference   TEXT,
        created_at  INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT, WITHOUT ROWID;
      -- The claim reads only pending rows, oldest due first.
      CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at, id) WHERE status = 'pending';
      CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries (finished_at, id) WHERE status = 'dead';
    `);
  },
  (db) => {
    db.exec(`
      -- Escalation and SLA timers (JSON, see EscalationState), the channels told so far, each
      -- channel's ticket reference, and the people kept informed.
      ALTER TABLE incidents ADD COLUMN escalation  TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE incidents ADD COLUMN notified    TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE incidents ADD COLUMN tickets     TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE incidents ADD COLUMN subscribers TEXT NOT NULL DEFAULT '[]';
      -- The escalation sweep reads due timers of active incidents only.
      ALTER TABLE incidents ADD COLUMN next_timer_at INTEGER;
      CREATE INDEX IF NOT EXISTS incidents_timers
        ON incidents (next_timer_at, seq) WHERE next_timer_at IS NOT NULL AND status IN ('open', 'acknowledged');
      -- Incidents from before: the channels their events went to were told, so they hear the end;
      -- active ones are due at once, so the sweep starts their timers (without announcing again).
      UPDATE incidents SET notified = (
        SELECT json_group_array(channel_id) FROM (
          SELECT DISTINCT channel_id FROM deliveries WHERE json_extract(event, '$.number') = printf('INC-%06d', incidents.seq)));
      UPDATE incidents SET next_timer_at = last_seen WHERE status IN ('open', 'acknowledged');
    `);
  },
  (db) => {
    db.exec(`
      -- The claim holds back a delivery while an older one of the same incident and channel is
      -- pending. Looking that up through json_extract over every pending row made a claim take
      -- 0.5 s with 20,000 pending (after an outage); a column and an index make it flat.
      ALTER TABLE deliveries ADD COLUMN incident TEXT NOT NULL DEFAULT '';
      UPDATE deliveries SET incident = json_extract(event, '$.number');
      CREATE INDEX IF NOT EXISTS deliveries_order
        ON deliveries (channel_id, incident, created_at) WHERE status = 'pending';
    `);
  },
  (db) => {
    db.exec(`
      -- The list's orders (src/domain/paging.ts): each index ends in seq, the tie-breaker, so a page
      -- in any order is an index range read instead of a sort of the whole table. Severity uses
      -- incidents_severity above, one range per severity.
      CREATE INDEX IF NOT EXISTS incidents_opened    ON incidents (first_seen, seq);
      CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen, seq);
      CREATE INDEX IF NOT EXISTS incidents_priority  ON incidents (priority, seq);
    `);
  },
  (db) => {
    db.exec(`
      -- Silences (src/domain/silence.ts): matchers as JSON; state follows from the two times.
      CREATE TABLE IF NOT EXISTS silences (
        id         TEXT PRIMARY KEY,
        matchers   TEXT NOT NULL,
        starts_at  INTEGER NOT NULL,
        ends_at    INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        comment    TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS silences_ends ON silences (ends_at, id);
    `);
  },
  (db) => {
    // Tenants (customers of an MSP): every incident from before is the default tenant's. Added
    // only when missing, so a file whose version was set back (tests of older upgrades) migrates.
    const columns = db.prepare("SELECT name FROM pragma_table_info('incidents')").all() as { name: string }[];
    if (!columns.some((c) => c.name === 'tenant')) db.exec("ALTER TABLE incidents ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'");
    db.exec(`
      -- A list scoped to tenants reads these indexes, each leading with the tenant and ending in seq.
      CREATE INDEX IF NOT EXISTS incidents_tenant        ON incidents (tenant, seq);
      CREATE INDEX IF NOT EXISTS incidents_tenant_status ON incidents (tenant, status, seq);
      -- ... and a list of one tenant in any order seeks a range of one of these (bench:list).
      CREATE INDEX IF NOT EXISTS incidents_tenant_opened    ON incidents (tenant, first_seen, seq);
      CREATE INDEX IF NOT EXISTS incidents_tenant_last_seen ON incidents (tenant, last_seen, seq);
      CREATE INDEX IF NOT EXISTS incidents_tenant_severity  ON incidents (tenant, severity, seq);
      CREATE INDEX IF NOT EXISTS incidents_tenant_priority  ON incidents (tenant, priority, seq);
      -- countActive for some tenants reads only this small index.
      CREATE INDEX IF NOT EXISTS incidents_active_tenant_severity
        ON incidents (tenant, severity) WHERE status IN ('open', 'acknowledged');
    `);
  },
  (db) => {
    db.exec(`
      -- Local accounts, browser sessions and the audit log (src/domain/account.ts). name_key is the
      -- name in lower case: names are unique without regard to case.
      CREATE TABLE IF NOT EXISTS users (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        name_key        TEXT NOT NULL UNIQUE,
        display_name    TEXT NOT NULL,
        email           TEXT NOT NULL,
        roles           TEXT NOT NULL,
        tenants         TEXT NOT NULL,
        password_hash   TEXT NOT NULL,
        disabled        INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        last_sign_in_at INTEGER,
        failed_attempts INTEGER NOT NULL,
        failed_since    INTEGER,
        locked_until    INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS sessions (
        id           TEXT PRIMARY KEY,
        user_id      TEXT NOT NULL,
        name         TEXT NOT NULL,
        roles        TEXT NOT NULL,
        tenants      TEXT NOT NULL,
        csrf_token   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
      CREATE TABLE IF NOT EXISTS audit (
        id      TEXT PRIMARY KEY,
        at      INTEGER NOT NULL,
        type    TEXT NOT NULL,
        actor   TEXT NOT NULL,
        subject TEXT NOT NULL,
        address TEXT NOT NULL,
        detail  TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS audit_newest ON audit (at, id);
    `);
  },
  (db) => {
    // A silence belongs to a tenant; every silence from before is the default tenant's.
    const columns = db.prepare("SELECT name FROM pragma_table_info('silences')").all() as { name: string }[];
    if (!columns.some((c) => c.name === 'tenant')) db.exec("ALTER TABLE silences ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'");
    db.exec('CREATE INDEX IF NOT EXISTS silences_tenant_ends ON silences (tenant, ends_at, id)');
  },
  (db) => {
    db.exec(`
      -- Reports (src/store/sqlite/reports.ts) read the incidents opened in a range of time and
      -- only these columns: covering indexes make that a range read of narrow index entries
      -- instead of a row lookup each in the wide table (bench:reports: 1.1-2.8 s -> see README at
      -- 1,000,000 incidents). Openings come in time order, so new entries land at the end.
      CREATE INDEX IF NOT EXISTS incidents_report ON incidents
        (first_seen, tenant, category, severity, impact, priority, tier, source, target_site, target_id, acknowledged_at, resolved_at);
      CREATE INDEX IF NOT EXISTS incidents_tenant_report ON incidents
        (tenant, first_seen, category, severity, impact, priority, tier, source, target_site, target_id, acknowledged_at, resolved_at);
    `);
  },
  (db) => {
    db.exec(`
      -- The backlog report counts resolutions per day: a range of resolution times.
      CREATE INDEX IF NOT EXISTS incidents_resolved        ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS incidents_tenant_resolved ON incidents (tenant, resolved_at) WHERE resolved_at IS NOT NULL;
    `);
  },
  // Version 12.
  (db) => {
    db.exec(`
      -- The escalations report counts escalated entries per period: a range of this small index
      -- (the message names the tier, the seq leads to the tenant) instead of the whole timeline.
      CREATE INDEX IF NOT EXISTS timeline_escalated ON timeline (at, incident_seq, message) WHERE action = 'escalated';
    `);
  },
  // Version 13.
  (db) => {
    db.exec(`
      -- What employees report (src/domain/problem-report.ts): "my reports" read one person's newest
      -- first; the count of people affected reads the reports of one incident.
      CREATE TABLE IF NOT EXISTS problem_reports (
        id            TEXT PRIMARY KEY,
        tenant        TEXT NOT NULL,
        reporter_id   TEXT NOT NULL,
        reporter_name TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        category      TEXT NOT NULL,
        description   TEXT NOT NULL,
        site          TEXT,
        room          TEXT,
        target        TEXT,
        affected      TEXT NOT NULL,
        since         INTEGER,
        contact       TEXT,
        incident      TEXT
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS problem_reports_reporter ON problem_reports (reporter_id, created_at, id);
      CREATE INDEX IF NOT EXISTS problem_reports_incident ON problem_reports (incident, reporter_id) WHERE incident IS NOT NULL;
    `);
  },
  // Version 14.
  (db) => {
    // The tier an escalated entry handed over to, as a field (TimelineEntry.tier), so the
    // escalations report no longer reads it out of the message. Added only when missing, so a
    // file whose version was set back (tests of older upgrades) migrates.
    const columns = db.prepare("SELECT name FROM pragma_table_info('timeline')").all() as { name: string }[];
    if (!columns.some((c) => c.name === 'tier')) db.exec('ALTER TABLE timeline ADD COLUMN tier TEXT');
    db.exec(`
      -- Entries written before get it from their message, as the report used to read it
      -- (escalatedInto in src/domain/reports.ts): 'escalated by hand from L1 to L2: ...' has it at
      -- characters 30-31, '...; escalated to L2' and '...; L2 takes over' at their end. LIKE's _
      -- is one character.
      UPDATE timeline SET tier = CASE
          WHEN message LIKE 'escalated by hand from __ to __:%' THEN substr(message, 30, 2)
          WHEN message LIKE '%; escalated to __' THEN substr(message, -2)
          WHEN message LIKE '%; __ takes over' THEN substr(message, -13, 2)
        END
       WHERE action = 'escalated' AND tier IS NULL;
      -- The report's index now carries the tier instead of the message.
      DROP INDEX IF EXISTS timeline_escalated;
      CREATE INDEX timeline_escalated ON timeline (at, incident_seq, tier) WHERE action = 'escalated';
    `);
  },
  // 15: an incident's 'opened' timeline entry is read from its row (first_seen, opened_by,
  // first_message) instead of a timeline row of its own: one insert per new incident. Rows from
  // before keep NULL here and their stored entry.
  (db) => {
    const columns = db.prepare("SELECT name FROM pragma_table_info('incidents')").all() as { name: string }[];
    if (!columns.some((c) => c.name === 'opened_by')) db.exec('ALTER TABLE incidents ADD COLUMN opened_by TEXT');
    if (!columns.some((c) => c.name === 'first_message')) db.exec('ALTER TABLE incidents ADD COLUMN first_message TEXT');
  },
  // 16: indexes that do not lead with the tenant go where a tenant-leading twin serves their
  // queries (issue 19): every new incident wrote all of them. A list of several tenants or of all
  // reads each tenant's range and merges them (src/store/sqlite/list.ts), as does a report of all
  // tenants (reports.ts: withTenants); countActive groups by tenant and severity, and the close
  // sweep reads its own small index of resolved incidents (one that a new incident, being open,
  // never writes). incidents_tenant_opened stays beside the wider report index: counts of all
  // incidents opened before a time (the backlog report) read its narrow entries 5 - 10x faster.
  (db) => {
    db.exec(`
      DROP INDEX IF EXISTS incidents_report;
      DROP INDEX IF EXISTS incidents_status;
      DROP INDEX IF EXISTS incidents_severity;
      DROP INDEX IF EXISTS incidents_priority;
      DROP INDEX IF EXISTS incidents_opened;
      DROP INDEX IF EXISTS incidents_last_seen;
      DROP INDEX IF EXISTS incidents_active_severity;
      CREATE INDEX IF NOT EXISTS incidents_resolved_due ON incidents (resolved_at) WHERE status = 'resolved';
    `);
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION. Runs in one IMMEDIATE transaction so two instances
 * opening the same new file at once do not both migrate.
 */
export function migrate(db: Database, path: string, now: number): void {
  const run = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    const found = row ? Number(row.value) : 0;
    if (found > SCHEMA_VERSION) throw new StoreSchemaTooNewError(path, found, SCHEMA_VERSION);
    for (let v = found; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    if (found === 0) put.run('created_at', String(now));
    if (found !== SCHEMA_VERSION) {
      put.run('schema_version', String(SCHEMA_VERSION));
      put.run('migrated_at', String(now));
    }
  });
  run.immediate();
}
