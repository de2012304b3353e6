// The scheduled report mail of each tenant (tenants[].reports): at the start of each month (or
// week) in the tenant's zone, the figures of the period that just ended, as HTML with a CSV
// attached, queued in the outbox for the tenant's email channel. The outbox event id names the
// tenant and period, so the report is queued once per period: a restart (which looks again at
// once, catching up a period start it slept through) or a second instance queues nothing new.
import { REPORT_MAIL_EVENT, type OutboxEvent, type ReportMail } from '../domain/events.js';
import { dayBoundaries, periodBoundaries, periodLabel, type HandlingTimeRow, type ReportPeriod } from '../domain/reports.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { IncidentStore } from '../store/types.js';
import { escapeHtml } from '../notify/markup.js';

export interface ReportMailTenant {
  id: string;
  name: string;
  timeZone: string | null;
  reports: { schedule: 'monthly' | 'weekly'; to: string[]; channel: string } | null;
}

export interface ReportMailerOptions {
  store: Pick<IncidentStore, 'countByPeriod' | 'handlingTimes' | 'slaCompliance' | 'slaBreaches' | 'topFingerprints' | 'topTargets' | 'backlog' | 'enqueueDelivery'>;
  clock: Clock;
  logger: Logger;
  /** The tenants configured now; read at every look, so a reload takes effect. */
  tenants: () => readonly ReportMailTenant[];
  /** Called after a report was queued (wire to Outbox.kick). */
  queued?: () => void;
}

const MAX_BREACHES_LISTED = 50;
const TOP = 5;

const periodOf = (schedule: 'monthly' | 'weekly'): ReportPeriod => (schedule === 'weekly' ? 'week' : 'month');

function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Minutes, hours or days, for people. */
function duration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 120) return `${m} min`;
  const h = ms / 3_600_000;
  if (h < 48) return `${Math.round(h * 10) / 10} h`;
  return `${Math.round((h / 24) * 10) / 10} d`;
}

function table(head: string[], rows: (string | number)[][]): string {
  const th = head.map((h) => `<th align="left">${escapeHtml(h)}</th>`).join('');
  const body = rows.length === 0 ? `<tr><td colspan="${head.length}">none</td></tr>` : rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('');
  return `<table border="1" cellpadding="4" cellspacing="0"><tr>${th}</tr>${body}</table>`;
}

/**
 * The report of `tenant` for the period [from, to) (the one before it: [prevFrom, from)), judged
 * at `now`. Every figure comes from the store's aggregations, never from loaded incidents.
 */
export async function composeReportMail(
  store: ReportMailerOptions['store'],
  tenant: ReportMailTenant & { reports: NonNullable<ReportMailTenant['reports']> },
  span: { period: ReportPeriod; zone: string; prevFrom: number; from: number; to: number; now: number },
): Promise<ReportMail> {
  const tenants = [tenant.id];
  const { from, to, zone, period, now } = span;
  const label = periodLabel(period, zone, from);
  const counts = await store.countByPeriod({ dimension: 'severity', boundaries: [span.prevFrom, from, to], tenants });
  const bySeverity = new Map<string, { current: number; previous: number }>();
  for (const c of counts) {
    const row = bySeverity.get(c.key) ?? { current: 0, previous: 0 };
    if (c.period === 1) row.current += c.count;
    else row.previous += c.count;
    bySeverity.set(c.key, row);
  }
  const countRows = [...bySeverity].sort(([a], [b]) => (a < b ? -1 : 1));
  const total = countRows.reduce((t, [, r]) => ({ current: t.current + r.current, previous: t.previous + r.previous }), { current: 0, previous: 0 });
  const pct = (c: number, p: number) => (p === 0 ? 'n/a' : `${Math.round(((c - p) / p) * 1000) / 10}%`);
  const handling: HandlingTimeRow[] = await store.handlingTimes({ groupBy: 'severity', from, to, tenants });
  const sla = await store.slaCompliance({ groupBy: 'severity', from, to, now, tenants });
  const breaches = await store.slaBreaches({ from, to, now, tenants }, MAX_BREACHES_LISTED);
  const problems = await store.topFingerprints({ from, to, tenants }, TOP);
  const targets = await store.topTargets({ from, to, now, tenants }, TOP);
  const days = dayBoundaries(zone, from, to);
  const backlog = await store.backlog({ boundaries: days, tenants });
  const openAtEnd = backlog.length > 0 ? backlog[backlog.length - 1]! : 0;
  const iso = (t: number | null) => (t === null ? '' : new Date(t).toISOString());

  const csv: (string | number | null)[][] = [['section', 'key', 'measure', 'current', 'previous']];
  for (const [k, r] of countRows) csv.push(['incidents', k, 'opened', r.current, r.previous]);
  csv.push(['incidents', 'total', 'opened', total.current, total.previous]);
  for (const h of handling) {
    csv.push(['handling', h.key, `${h.measure}_median_ms`, h.medianMs, null], ['handling', h.key, `${h.measure}_p90_ms`, h.p90Ms, null], ['handling', h.key, `${h.measure}_mean_ms`, Math.round(h.meanMs), null]);
  }
  for (const s of sla) csv.push(['sla', s.key, `${s.measure}_met`, s.met, null], ['sla', s.key, `${s.measure}_breached`, s.breached, null], ['sla', s.key, `${s.measure}_pending`, s.pending, null]);
  for (const b of breaches) csv.push(['breach', b.number, b.measure, iso(b.dueAt), iso(b.doneAt)]);
  for (const p of problems) csv.push(['problem', p.fingerprint, 'openings_reopenings', p.openings + p.reopenings, null]);
  for (const t of targets) csv.push(['target', t.targetId, 'incidents', t.incidents, null]);
  csv.push(['backlog', 'open_at_end', 'incidents', openAtEnd, null]);

  const title = `Incident report ${label}: ${tenant.name}`;
  const html = [
    `<html><body><h1>${escapeHtml(title)}</h1>`,
    `<p>Period ${escapeHtml(new Date(from).toISOString())} to ${escapeHtml(new Date(to).toISOString())} (${escapeHtml(zone)}).</p>`,
    '<h2>Incidents opened</h2>',
    table(['severity', 'this period', 'period before', 'change'], [...countRows.map(([k, r]) => [k, r.current, r.previous, pct(r.current, r.previous)]), ['total', total.current, total.previous, pct(total.current, total.previous)]]),
    '<h2>Handling times</h2>',
    table(['severity', 'measure', 'count', 'median', 'p90', 'mean'], handling.map((h) => [h.key, h.measure, h.count, duration(h.medianMs), duration(h.p90Ms), duration(h.meanMs)])),
    '<h2>SLA compliance</h2>',
    table(['severity', 'measure', 'met', 'breached', 'pending'], sla.map((s) => [s.key, s.measure, s.met, s.breached, s.pending])),
    '<h2>SLA breaches</h2>',
    table(['incident', 'severity', 'measure', 'due', 'done'], breaches.map((b) => [b.number, b.severity, b.measure, iso(b.dueAt), iso(b.doneAt) || 'not yet'])),
    '<h2>Top problems</h2>',
    table(['fingerprint', 'target', 'openings + reopenings'], problems.map((p) => [p.fingerprint, p.targetId, p.openings + p.reopenings])),
    table(['target', 'incidents', 'downtime'], targets.map((t) => [t.targetName || t.targetId, t.incidents, duration(t.downtimeMs)])),
    '<h2>Backlog</h2>',
    `<p>Open at the end of the period: ${openAtEnd}</p>`,
    '</body></html>',
  ].join('\n');
  const text = [
    title,
    `Incidents opened: ${total.current} (period before: ${total.previous})`,
    ...countRows.map(([k, r]) => `  ${k}: ${r.current} (${r.previous})`),
    `SLA breaches: ${breaches.length}`,
    `Open at the end of the period: ${openAtEnd}`,
    'The figures are in the HTML part and the attached CSV.',
  ].join('\n');
  return {
    tenant: tenant.id,
    to: tenant.reports.to,
    subject: title,
    text,
    html,
    attachment: { filename: `incidents-${tenant.id}-${label}.csv`, content: csv.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n' },
  };
}

export class ReportMailer {
  private timer: TimerHandle | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: ReportMailerOptions) {}

  /** Looks at once (a period start slept through is caught up), then at each period start. */
  start(): void {
    this.stopped = false;
    this.running = this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel?.();
    this.timer = null;
    await this.running;
  }

  /** Queues the report of every tenant's last ended period not queued yet; resolves when done. */
  async runOnce(): Promise<void> {
    const now = this.opts.clock.now();
    for (const t of this.opts.tenants()) {
      if (t.reports === null) continue;
      const zone = t.timeZone ?? 'UTC';
      const period = periodOf(t.reports.schedule);
      const [prevFrom, from, to] = periodBoundaries(period, zone, now, 3) as [number, number, number, number];
      const label = periodLabel(period, zone, from);
      const id = `report:${t.id}:${period}:${label}`;
      try {
        const mail = await composeReportMail(this.opts.store, { ...t, reports: t.reports }, { period, zone, prevFrom, from, to, now });
        const event: OutboxEvent = { id, type: REPORT_MAIL_EVENT, at: to, number: `report:${t.id}`, mail };
        if (await this.opts.store.enqueueDelivery(event, t.reports.channel, now)) {
          this.opts.logger.info({ tenant: t.id, period: label, channel: t.reports.channel }, 'report mail queued');
          this.opts.queued?.();
        }
      } catch (err) {
        this.opts.logger.warn({ err, tenant: t.id, period: label }, 'cannot queue the report mail; will try again at the next look');
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.runOnce();
    if (this.stopped) return;
    // The next look: the earliest period start to come among the tenants (at most a day away, so
    // a tenant added by a reload or a changed schedule is picked up the same day).
    const now = this.opts.clock.now();
    let next = now + 86_400_000;
    for (const t of this.opts.tenants()) {
      if (t.reports === null) continue;
      const b = periodBoundaries(periodOf(t.reports.schedule), t.timeZone ?? 'UTC', now, 1);
      next = Math.min(next, b[1]!);
    }
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.running = this.tick();
    }, Math.max(1, next - now));
  }
}

