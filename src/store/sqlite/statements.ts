// The SQL of the SQLite store, prepared once at open(): preparing per call would dominate the hot
// path. Only reads and writes live here; what to write is decided in src/domain.
import type Database from 'better-sqlite3';
import { INCIDENT_INSERT_COLUMNS } from './rows.js';

// Spelt exactly as in the partial indexes' WHERE clauses, so SQLite can use them.
export const ACTIVE = "status IN ('open', 'acknowledged')";
export const INACTIVE = "status IN ('resolved', 'closed')";

export type Stmt = Database.Statement<unknown[], unknown>;

/** Statements prepared once at open(); preparing per call would dominate the hot path. */
export interface Statements {
  syncNormal: Stmt;
  syncFull: Stmt;
  findFingerprint: Stmt;
  intakeMark: Stmt;
  intakeMarkGet: Stmt;
  counterGet: Stmt;
  counterSet: Stmt;
  repeat: Stmt;
  retitle: Stmt;
  reopen: Stmt;
  insert: Stmt;
  timelineAdd: Stmt;
  resolveActive: Stmt;
  activeByFingerprint: Stmt;
  setFlapping: Stmt;
  setRelated: Stmt;
  fpStateUpsert: Stmt;
  fpStateDelete: Stmt;
  activeStateSet: Stmt;
  fpStateAll: Stmt;
  activeStateAll: Stmt;
  bySeq: Stmt;
  timelineOf: Stmt;
  acknowledge: Stmt;
  resolveManual: Stmt;
  countActive: Stmt;
  ping: Stmt;
  deliveryInsert: Stmt;
  deliveryClaim: Stmt;
  deliveryRelease: Stmt;
  deliveryDone: Stmt;
  deliveryRetry: Stmt;
  deliveryDead: Stmt;
  deliveryCount: Stmt;
  reclassify: Stmt;
  notifiedGet: Stmt;
  notifiedSet: Stmt;
  dueTimers: Stmt;
  escalationApply: Stmt;
  deliveryTarget: Stmt;
  ticketSet: Stmt;
  subscribersSet: Stmt;
  subscribersGet: Stmt;
  closeResolved: Stmt;
  revise: Stmt;
}

export function prepareStatements(db: Database.Database): Statements {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    counterGet: p("SELECT value FROM counters WHERE name = 'incident'"),
    counterSet: p("UPDATE counters SET value = ? WHERE name = 'incident'"),
    // The active incident of a fingerprint, else the latest one resolved (not closed) since the
    // given time: the one a fail repeats or reopens. The status IN terms name the partial indexes'
    // conditions, which SQLite needs to see literally to use them; INDEXED BY makes sure it does.
    // Prepared once: db.pragma() prepares its statement on every call.
    syncNormal: p('PRAGMA synchronous = NORMAL'),
    syncFull: p('PRAGMA synchronous = FULL'),
    findFingerprint: p(
      `SELECT seq, severity, 1 AS active, title, description FROM incidents WHERE fingerprint = ? AND ${ACTIVE}
       UNION ALL
       SELECT * FROM (SELECT seq, severity, 0 AS active, title, description FROM incidents INDEXED BY incidents_inactive_fingerprint
                      WHERE fingerprint = ? AND status IN ('resolved', 'closed') AND status = 'resolved' AND resolved_at >= ?
                      ORDER BY resolved_at DESC, seq DESC LIMIT 1)
       LIMIT 1`,
    ),
    repeat: p('UPDATE incidents SET occurrences = occurrences + ?, last_seen = max(last_seen, ?), last_message = ? WHERE seq = ?'),
    retitle: p('UPDATE incidents SET title = ?, description = ? WHERE seq = ?'),
    // A reopened incident starts over as open: it needs acknowledging again; the timeline keeps
    // who acknowledged and resolved it before.
    reopen: p(
      `UPDATE incidents SET status = @status, reopen_count = reopen_count + @reopens,
         resolved_at = @resolved_at, resolved_by = @resolved_by, acknowledged_at = @acknowledged_at, acknowledged_by = @acknowledged_by,
         occurrences = occurrences + @count, last_seen = max(last_seen, @at), last_message = @last_message,
         tier = @tier, escalation = @escalation, next_timer_at = @next_timer_at,
         category = @category, severity = @severity, impact = @impact, priority = @priority, title = @title,
         description = @description, runbook = @runbook, rule_id = @rule_id
       WHERE seq = @seq`,
    ),
    insert: p(
      `INSERT INTO incidents (${INCIDENT_INSERT_COLUMNS.join(', ')}) VALUES (${INCIDENT_INSERT_COLUMNS.map(() => '?').join(', ')})`,
    ),
    timelineAdd: p('INSERT INTO timeline (incident_seq, at, actor, action, message, tier) VALUES (?, ?, ?, ?, ?, ?)'),
    resolveActive: p(
      `UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ?
       WHERE fingerprint = ? AND ${ACTIVE} RETURNING seq, title, severity, tier, target_id, target_name, first_seen`,
    ),
    activeByFingerprint: p(`SELECT seq, flapping, related FROM incidents WHERE fingerprint = ? AND ${ACTIVE}`),
    setFlapping: p('UPDATE incidents SET flapping = ? WHERE seq = ?'),
    setRelated: p('UPDATE incidents SET related = ? WHERE seq = ?'),
    fpStateUpsert: p(
      'INSERT INTO fingerprint_state (fingerprint, data) VALUES (?, ?) ON CONFLICT (fingerprint) DO UPDATE SET data = excluded.data',
    ),
    fpStateDelete: p('DELETE FROM fingerprint_state WHERE fingerprint = ?'),
    activeStateSet: p(`UPDATE incidents SET hysteresis = ? WHERE fingerprint = ? AND ${ACTIVE}`),
    fpStateAll: p('SELECT data FROM fingerprint_state ORDER BY fingerprint'),
    activeStateAll: p(`SELECT hysteresis AS data FROM incidents WHERE ${ACTIVE} AND hysteresis IS NOT NULL`),
    bySeq: p('SELECT * FROM incidents WHERE seq = ?'),
    timelineOf: p('SELECT at, actor, action, message, tier FROM timeline WHERE incident_seq = ? ORDER BY id'),
    acknowledge: p("UPDATE incidents SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE seq = ?"),
    resolveManual: p("UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ? WHERE seq = ?"),
    // A range of the small index of active incidents, already in (tenant, severity) order: no
    // sort; the caller adds up the tenants. INDEXED BY: the planner might read another index.
    countActive: p(
      `SELECT severity, COUNT(*) AS n FROM incidents INDEXED BY incidents_active_tenant_severity
       WHERE ${ACTIVE} GROUP BY tenant, severity`,
    ),
    ping: p('SELECT 1 AS ok'),
    intakeMark: p(
      `INSERT INTO meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)`,
    ),
    intakeMarkGet: p('SELECT value FROM meta WHERE key = ?'),
    deliveryInsert: p(
      `INSERT INTO deliveries (id, event_id, channel_id, event, status, next_at, created_at, incident)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    // A helpdesk must hear of an incident in order: a delivery waits while an older one for the same
    // incident and channel is still pending (e.g. the opening is being retried).
    deliveryClaim: p(
      `UPDATE deliveries SET attempts = attempts + 1, lease_owner = ?, next_at = ?
       WHERE id IN (SELECT d.id FROM deliveries d WHERE d.status = 'pending' AND d.next_at <= ?
                      AND NOT EXISTS (SELECT 1 FROM deliveries o INDEXED BY deliveries_order
                                      WHERE o.status = 'pending' AND o.channel_id = d.channel_id
                                        AND o.incident = d.incident AND o.created_at < d.created_at)
                    ORDER BY d.next_at, d.id LIMIT ?)
       RETURNING *`,
    ),
    deliveryRelease: p(
      "UPDATE deliveries SET lease_owner = NULL, next_at = MIN(next_at, ?) WHERE status = 'pending' AND lease_owner = ?",
    ),
    deliveryDone: p(
      `UPDATE deliveries SET status = 'delivered', reference = ?, finished_at = ?, lease_owner = NULL, last_error = NULL
       WHERE id = ? AND status = 'pending'`,
    ),
    deliveryRetry: p(
      "UPDATE deliveries SET next_at = ?, last_error = ?, lease_owner = NULL WHERE id = ? AND status = 'pending'",
    ),
    deliveryDead: p(
      `UPDATE deliveries SET status = 'dead', last_error = ?, finished_at = ?, lease_owner = NULL
       WHERE id = ? AND status = 'pending'`,
    ),
    deliveryCount: p("SELECT status, COUNT(*) AS n FROM deliveries WHERE status IN ('pending', 'dead') GROUP BY status"),
    reclassify: p(
      `UPDATE incidents SET category = ?, severity = ?, impact = ?, priority = ?, title = ?, description = ?,
         runbook = ?, rule_id = ?, next_timer_at = ? WHERE seq = ?`,
    ),
    notifiedGet: p('SELECT notified FROM incidents WHERE seq = ?'),
    notifiedSet: p('UPDATE incidents SET notified = ? WHERE seq = ?'),
    dueTimers: p(
      `SELECT * FROM incidents INDEXED BY incidents_timers
       WHERE next_timer_at IS NOT NULL AND ${ACTIVE} AND next_timer_at <= ?
       ORDER BY next_timer_at, seq LIMIT ?`,
    ),
    // Compare-and-set: applies only to the incident as the sweep saw it (IS: null-safe equality;
    // a null tier matches any).
    escalationApply: p(
      `UPDATE incidents SET tier = ?, escalation = ?, next_timer_at = ?
       WHERE seq = ? AND status = ? AND severity = ? AND next_timer_at IS ? AND (? IS NULL OR tier = ?) AND ${ACTIVE}`,
    ),
    // A person's change (IncidentRevision), compare-and-set on what it was decided from. Null
    // parameters keep the column; @reopen is 1 to reopen.
    revise: p(
      `UPDATE incidents SET
         severity = coalesce(@severity, severity), impact = coalesce(@impact, impact),
         priority = coalesce(@priority, priority), tier = coalesce(@tier, tier),
         escalation = coalesce(@escalation, escalation),
         next_timer_at = CASE WHEN @escalation IS NULL THEN next_timer_at ELSE @next_timer_at END,
         status = CASE WHEN @reopen = 1 THEN 'open' ELSE status END,
         reopen_count = reopen_count + @reopen,
         resolved_at = CASE WHEN @reopen = 1 THEN NULL ELSE resolved_at END,
         resolved_by = CASE WHEN @reopen = 1 THEN NULL ELSE resolved_by END,
         acknowledged_at = CASE WHEN @reopen = 1 THEN NULL ELSE acknowledged_at END,
         acknowledged_by = CASE WHEN @reopen = 1 THEN NULL ELSE acknowledged_by END,
         hysteresis = CASE WHEN @reopen = 1 THEN NULL ELSE hysteresis END
       WHERE seq = @seq AND status = @x_status AND severity = @x_severity AND tier = @x_tier AND next_timer_at IS @x_next`,
    ),
    deliveryTarget: p('SELECT channel_id, incident AS number FROM deliveries WHERE id = ?'),
    // json_insert leaves an existing key alone: the first reference stays the ticket.
    ticketSet: p(`UPDATE incidents SET tickets = json_insert(tickets, '$."' || ? || '"', ?) WHERE seq = ?`),
    subscribersSet: p('UPDATE incidents SET subscribers = ? WHERE seq = ?'),
    subscribersGet: p('SELECT subscribers FROM incidents WHERE seq = ?'),
    // The due ones are a range of incidents_resolved_due, sorted by seq (a batch of the oldest).
    closeResolved: p(
      `UPDATE incidents SET status = 'closed', closed_at = ?
       WHERE seq IN (SELECT seq FROM incidents INDEXED BY incidents_resolved_due
                     WHERE status = 'resolved' AND resolved_at <= ? ORDER BY seq LIMIT ?)
       RETURNING seq`,
    ),
  };
}
