// Silences in SQLite: one row each, matchers as JSON. Expiring one also makes the escalation timer
// of the incidents it holds back due at once, in the same transaction (see SilenceStore).
import type { Database } from 'better-sqlite3';
import { expiredAt, SilenceNotFoundError, type Matcher, type Silence, type SilenceState } from '../../domain/silence.js';
import type { SilencePosition } from '../types.js';
import { pageSize } from '../../domain/paging.js';

interface SilenceRow {
  id: string;
  tenant: string;
  matchers: string;
  starts_at: number;
  ends_at: number;
  created_by: string;
  comment: string;
  created_at: number;
  updated_at: number;
}

function fromRow(r: SilenceRow): Silence {
  return {
    id: r.id,
    tenant: r.tenant,
    matchers: JSON.parse(r.matchers) as Matcher[],
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    createdBy: r.created_by,
    comment: r.comment,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toParams(s: Silence) {
  return {
    id: s.id,
    tenant: s.tenant,
    matchers: JSON.stringify(s.matchers),
    starts_at: s.startsAt,
    ends_at: s.endsAt,
    created_by: s.createdBy,
    comment: s.comment,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

export function insertSilence(db: Database, s: Silence): void {
  db.prepare(
    `INSERT INTO silences (id, tenant, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at)
     VALUES (@id, @tenant, @matchers, @starts_at, @ends_at, @created_by, @comment, @created_at, @updated_at)`,
  ).run(toParams(s));
}

const WHERE: Record<SilenceState, string> = {
  pending: 'starts_at > @now AND ends_at > @now',
  active: 'starts_at <= @now AND ends_at > @now',
  expired: 'ends_at <= @now',
};

export function selectSilences(
  db: Database,
  states: readonly SilenceState[],
  now: number,
  limit: number,
  after: SilencePosition | null,
  tenants?: readonly string[],
): Silence[] {
  if (tenants !== undefined && tenants.length === 0) return [];
  // Bound as a JSON list: one statement whatever the number of tenants.
  const ofTenants = tenants === undefined ? '' : ' AND tenant IN (SELECT value FROM json_each(@tenants))';
  const wanted: readonly SilenceState[] = states.length === 0 ? ['pending', 'active', 'expired'] : states;
  const size = pageSize(limit);
  const out: Silence[] = [];
  // Past the not-yet-ended ones once the previous page ended with an ended one.
  const afterLive = after !== null && after.endsAt > now;
  const afterEnded = after !== null && after.endsAt <= now;
  const params = { now, e: after?.endsAt ?? 0, i: after?.id ?? '', ...(tenants === undefined ? {} : { tenants: JSON.stringify(tenants) }) };
  // Not yet ended ones first (soonest end first), then the ended ones, latest end first.
  const live = wanted.filter((s) => s !== 'expired');
  if (live.length > 0 && !afterEnded) {
    const past = afterLive ? ' AND (ends_at > @e OR (ends_at = @e AND id > @i))' : '';
    const rows = db
      .prepare(`SELECT * FROM silences WHERE ((${live.map((s) => WHERE[s]).join(') OR (')}))${past}${ofTenants} ORDER BY ends_at, id LIMIT @limit`)
      .all({ ...params, limit: size }) as SilenceRow[];
    out.push(...rows.map(fromRow));
  }
  if (wanted.includes('expired') && out.length < size) {
    const past = afterEnded ? ' AND (ends_at < @e OR (ends_at = @e AND id > @i))' : '';
    const rows = db
      .prepare(`SELECT * FROM silences WHERE ${WHERE.expired}${past}${ofTenants} ORDER BY ends_at DESC, id LIMIT @limit`)
      .all({ ...params, limit: size - out.length }) as SilenceRow[];
    out.push(...rows.map(fromRow));
  }
  return out;
}

export function countSilenceRows(db: Database, now: number): Record<SilenceState, number> {
  const row = db
    .prepare(
      `SELECT COALESCE(SUM(${WHERE.pending}), 0) AS pending, COALESCE(SUM(${WHERE.active}), 0) AS active, COALESCE(SUM(${WHERE.expired}), 0) AS expired FROM silences`,
    )
    .get({ now }) as Record<SilenceState, number>;
  return { pending: row.pending, active: row.active, expired: row.expired };
}

/** Runs inside the caller's transaction. */
export function expireSilenceRow(db: Database, id: string, at: number, tenants?: readonly string[]): Silence {
  const row = db.prepare('SELECT * FROM silences WHERE id = ?').get(id) as SilenceRow | undefined;
  // Another tenant's silence is answered as one that does not exist.
  if (!row || (tenants !== undefined && !tenants.includes(row.tenant))) throw new SilenceNotFoundError(id);
  const changed = expiredAt(fromRow(row), at);
  db.prepare('UPDATE silences SET starts_at = @starts_at, ends_at = @ends_at, updated_at = @updated_at WHERE id = @id').run(toParams(changed));
  // The incidents it held back are looked at by the sweep now; the silence scan is over the
  // active incidents with a timer only (an expiry is rare; ingest never runs this).
  db.prepare(
    `UPDATE incidents SET next_timer_at = @at
      WHERE status IN ('open', 'acknowledged') AND next_timer_at IS NOT NULL AND next_timer_at > @at
        AND EXISTS (SELECT 1 FROM json_each(incidents.escalation, '$.silencedBy') WHERE value = @id)`,
  ).run({ at, id });
  return changed;
}
