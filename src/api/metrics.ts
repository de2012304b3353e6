// Prometheus metrics of the daemon. One registry per daemon (not prom-client's global one), so
// tests and several instances in one process never see each other's numbers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SEVERITIES, type Severity } from '../domain/classification.js';
import { SILENCE_STATES, type SilenceState } from '../domain/silence.js';
import { CHECK_STATES, type CheckState, type CheckStatus, type CheckStatusObserver } from '../scheduler/check-status.js';

export const METRIC_PREFIX = 'incidentd_';

export interface Metrics {
  registry: Registry;
  /** incidentd_probe_runs_total{kind,result="ok|fail"} */
  probeRuns: Counter<'kind' | 'result'>;
  /** incidentd_probe_duration_seconds{kind} */
  probeLatency: Histogram<'kind'>;
  /** incidentd_schedule_slip_seconds: how late a run started compared with its slot. */
  scheduleSlip: Histogram;
  /** incidentd_probe_skipped_total{kind}: a run was due while the previous one was still going. */
  probeSkipped: Counter<'kind'>;
  /** incidentd_signals_total{source,status} */
  signals: Counter<'source' | 'status'>;
  /** incidentd_incidents_opened_total{severity} (opened and reopened) */
  incidentsOpened: Counter<'severity'>;
  /** incidentd_incidents_resolved_total{severity} */
  incidentsResolved: Counter<'severity'>;
  /** incidentd_active_incidents{severity}, read from the store at scrape time. */
  activeIncidents: Gauge<'severity'>;
  /** incidentd_pipeline_commit_seconds: time to commit one batch to the store. */
  pipelineLatency: Histogram;
  /** incidentd_config_reloads_total{result="ok|error"} */
  configReloads: Counter<'result'>;
  /** incidentd_signal_queue_signals / _limit: signals waiting for the store, and how many may. */
  signalQueue: Gauge;
  signalQueueLimit: Gauge;
  /** incidentd_signals_refused_total{source}: refused because the queue was full. */
  signalsRefused: Counter<'source'>;
  /** incidentd_snmp_trap_packets_total{outcome}: trap datagrams by outcome, read at scrape time. */
  trapPackets: Counter<'outcome'>;
  /** Outbox deliveries by channel: delivered, retried, dead-lettered. */
  notificationsDelivered: Counter<'channel'>;
  notificationRetries: Counter<'channel'>;
  notificationsDead: Counter<'channel'>;
  /** incidentd_outbox_deliveries{status="pending|dead"}, read from the store at scrape time. */
  outboxDeliveries: Gauge<'status'>;
  /** incidentd_escalations_total{tier,severity}: incidents that climbed to `tier`. */
  escalations: Counter<'tier' | 'severity'>;
  /**
   * incidentd_sla_breaches_total{sla="ack|resolve",severity,tier,tenant}: tier is the one responsible
   * when it was breached; tenants are the configured ones, so the series stay few.
   */
  slaBreaches: Counter<'sla' | 'severity' | 'tier' | 'tenant'>;
  /** incidentd_time_to_acknowledge_seconds{severity}: from opening to acknowledgement. */
  timeToAcknowledge: Histogram<'severity'>;
  /** incidentd_time_to_resolve_seconds{severity}: from opening to resolution (by a person or a signal). */
  timeToResolve: Histogram<'severity'>;
  /** incidentd_intake_journal_write_seconds: one group write of alert requests until on disk. */
  journalWrite: Histogram;
  /** incidentd_intake_journal_records_total: alert requests written to the journal. */
  journalRecords: Counter;
  /** incidentd_intake_journal_write_errors_total: alert requests whose journal write failed. */
  journalErrors: Counter;
  /** incidentd_rule_evaluation_errors_total{rule,reason}: conditions that failed to evaluate (reason cost, missing_key, not_boolean, error). */
  ruleEvaluationErrors: Counter<'rule' | 'reason'>;
  /** incidentd_check_up{target,check,kind}: 1 when the check's last run succeeded, 0 when it failed. */
  checkUp: Gauge<CheckLabel>;
  /** incidentd_check_duration_seconds{target,check,kind}: how long the check's last run took. */
  checkDuration: Gauge<CheckLabel>;
  /** incidentd_checks{state}: configured checks by state (up, down, unknown, cannot-run). */
  checks: Gauge<'state'>;
  /** incidentd_silences{state="pending|active|expired"}, as alertmanager_silences. */
  silences: Gauge<'state'>;
}

type CheckLabel = 'target' | 'check' | 'kind';

export interface TrapStats {
  received: number;
  accepted: number;
  rejectedAuth: number;
  malformed: number;
}

export interface MetricsOptions {
  /** Counts of active (open or acknowledged) incidents by severity; called on every scrape. */
  countActive: () => Promise<Record<Severity, number>>;
  /** Signals waiting for the store; called on every scrape. */
  queued?: () => number;
  /** The SNMP trap receiver's counts since start, or null when it is off. */
  trapStats?: () => TrapStats | null;
  /** Pending and dead-lettered outbox deliveries; called on every scrape. */
  countDeliveries?: () => Promise<{ pending: number; dead: number }>;
  /** The intake journal's files on disk, or null before it is open; called on every scrape. */
  journalDisk?: () => { segments: number; bytes: number } | null;
  /** Configured checks by state; called on every scrape. */
  checkCounts?: () => Record<CheckState, number>;
  /** Silences by state, or null before they were read; called on every scrape. */
  silenceCounts?: () => Record<SilenceState, number> | null;
}

// Probes range from sub-millisecond loopback pings to slow HTTP checks near their timeout.
const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SLIP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];
// A journal write is one O_DSYNC write: tens of microseconds on NVMe, milliseconds on a busy disk.
const JOURNAL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];

  const probeRuns = new Counter({
    name: `${METRIC_PREFIX}probe_runs_total`,
    help: 'Probe runs by probe kind and result (ok or fail).',
    labelNames: ['kind', 'result'] as const,
    registers,
  });
  const probeLatency = new Histogram({
    name: `${METRIC_PREFIX}probe_duration_seconds`,
    help: 'Duration of probe runs by probe kind.',
    labelNames: ['kind'] as const,
    buckets: PROBE_BUCKETS,
    registers,
  });
  const scheduleSlip = new Histogram({
    name: `${METRIC_PREFIX}schedule_slip_seconds`,
    help: 'How late probe runs started compared with their scheduled time.',
    buckets: SLIP_BUCKETS,
    registers,
  });
  const probeSkipped = new Counter({
    name: `${METRIC_PREFIX}probe_skipped_total`,
    help: 'Probe runs skipped because the previous run of the same check was still going.',
    labelNames: ['kind'] as const,
    registers,
  });
  const signals = new Counter({
    name: `${METRIC_PREFIX}signals_total`,
    help: 'Signals received by the rules engine, by source and status (ok or fail).',
    labelNames: ['source', 'status'] as const,
    registers,
  });
  const incidentsOpened = new Counter({
    name: `${METRIC_PREFIX}incidents_opened_total`,
    help: 'Incidents opened or reopened, by severity.',
    labelNames: ['severity'] as const,
    registers,
  });
  const incidentsResolved = new Counter({
    name: `${METRIC_PREFIX}incidents_resolved_total`,
    help: 'Incidents resolved, by severity.',
    labelNames: ['severity'] as const,
    registers,
  });
  const activeIncidents = new Gauge({
    name: `${METRIC_PREFIX}active_incidents`,
    help: 'Incidents currently open or acknowledged, by severity.',
    labelNames: ['severity'] as const,
    registers,
    async collect() {
      // Reset first: if the store is unreachable, an absent series is more honest than a stale one,
      // and a failing store must not break the whole scrape.
      this.reset();
      let counts: Record<Severity, number>;
      try {
        counts = await opts.countActive();
      } catch {
        return;
      }
      for (const severity of SEVERITIES) this.set({ severity }, counts[severity] ?? 0);
    },
  });
  const pipelineLatency = new Histogram({
    name: `${METRIC_PREFIX}pipeline_commit_seconds`,
    help: 'Time to commit one batch of incident changes to the store.',
    buckets: COMMIT_BUCKETS,
    registers,
  });
  const ruleEvaluationErrors = new Counter({
    name: `${METRIC_PREFIX}rule_evaluation_errors_total`,
    help: 'Rule conditions that failed to evaluate for a signal, by rule and reason (cost: stopped at the cost bound); the rule did not match.',
    labelNames: ['rule', 'reason'] as const,
    registers,
  });
  const configReloads = new Counter({
    name: `${METRIC_PREFIX}config_reloads_total`,
    help: 'Configuration reloads by result (ok or error).',
    labelNames: ['result'] as const,
    registers,
  });

  const signalQueue = new Gauge({
    name: `${METRIC_PREFIX}signal_queue_signals`,
    help: 'Signals accepted and waiting to be committed to the store (grows while the store is away).',
    registers,
    collect() {
      this.set(opts.queued?.() ?? 0);
    },
  });
  const signalQueueLimit = new Gauge({
    name: `${METRIC_PREFIX}signal_queue_limit`,
    help: 'Signals that may wait for the store before new ones are refused (ingest.max_queue).',
    registers,
  });
  const signalsRefused = new Counter({
    name: `${METRIC_PREFIX}signals_refused_total`,
    help: 'Signals refused because the queue to the store was full, by source.',
    labelNames: ['source'] as const,
    registers,
  });

  const trapPackets = new Counter({
    name: `${METRIC_PREFIX}snmp_trap_packets_total`,
    help: 'SNMP trap datagrams by outcome: received, accepted, rejected_auth (unknown community/user), malformed.',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      const stats = opts.trapStats?.();
      if (!stats) return;
      // The receiver keeps the totals; the counter mirrors them at each scrape.
      this.reset();
      this.inc({ outcome: 'received' }, stats.received);
      this.inc({ outcome: 'accepted' }, stats.accepted);
      this.inc({ outcome: 'rejected_auth' }, stats.rejectedAuth);
      this.inc({ outcome: 'malformed' }, stats.malformed);
    },
  });

  const byChannel = (name: string, help: string) =>
    new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames: ['channel'] as const, registers });
  const notificationsDelivered = byChannel('notifications_delivered_total', 'Notifications delivered, by channel.');
  const notificationRetries = byChannel('notification_retries_total', 'Notification attempts that failed and will be retried, by channel.');
  const notificationsDead = byChannel('notifications_dead_total', 'Notifications given up (dead letters), by channel.');
  const outboxDeliveries = new Gauge({
    name: `${METRIC_PREFIX}outbox_deliveries`,
    help: 'Outbox deliveries waiting (pending) or given up (dead), read from the store.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      this.reset();
      if (!opts.countDeliveries) return;
      try {
        const c = await opts.countDeliveries();
        this.set({ status: 'pending' }, c.pending);
        this.set({ status: 'dead' }, c.dead);
      } catch {
        // An unreachable store leaves the series out rather than stale.
      }
    },
  });

  const escalations = new Counter({
    name: `${METRIC_PREFIX}escalations_total`,
    help: 'Incidents that climbed to a support tier (not acknowledged in time, SLA breached, severity raised).',
    labelNames: ['tier', 'severity'] as const,
    registers,
  });
  const slaBreaches = new Counter({
    name: `${METRIC_PREFIX}sla_breaches_total`,
    help: 'SLA breaches recorded on incidents: time to acknowledge (ack) or to resolve (resolve), by severity, the tier responsible and the tenant.',
    labelNames: ['sla', 'severity', 'tier', 'tenant'] as const,
    registers,
  });
  // From a minute to a month: a major incident is acknowledged in minutes, a minor one resolved in days.
  const HANDLING_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 432_000, 1_209_600, 2_592_000];
  const timeToAcknowledge = new Histogram({
    name: `${METRIC_PREFIX}time_to_acknowledge_seconds`,
    help: 'Time from the opening of an incident to its acknowledgement, by severity.',
    labelNames: ['severity'] as const,
    buckets: HANDLING_BUCKETS,
    registers,
  });
  const timeToResolve = new Histogram({
    name: `${METRIC_PREFIX}time_to_resolve_seconds`,
    help: 'Time from the opening of an incident to its resolution (by a person or a recovering signal), by severity.',
    labelNames: ['severity'] as const,
    buckets: HANDLING_BUCKETS,
    registers,
  });

  const journalWrite = new Histogram({
    name: `${METRIC_PREFIX}intake_journal_write_seconds`,
    help: 'Time for one group write of alert requests to reach the disk in the intake journal; alert endpoints answer after it.',
    buckets: JOURNAL_BUCKETS,
    registers,
  });
  const journalRecords = new Counter({
    name: `${METRIC_PREFIX}intake_journal_records_total`,
    help: 'Alert requests written to the intake journal (divided by the write count: requests per disk write).',
    registers,
  });
  const journalErrors = new Counter({
    name: `${METRIC_PREFIX}intake_journal_write_errors_total`,
    help: 'Alert requests answered with an error because the intake journal could not be written.',
    registers,
  });
  const journalDisk = (field: 'segments' | 'bytes') =>
    new Gauge({
      name: `${METRIC_PREFIX}intake_journal_${field}`,
      help:
        field === 'segments'
          ? 'Intake journal segment files on disk (deleted once the store has their alerts).'
          : 'Bytes of alert records in the intake journal files (grows while the store is away).',
      registers,
      collect() {
        const d = opts.journalDisk?.();
        if (d) this.set(d[field]);
      },
    });
  journalDisk('segments');
  journalDisk('bytes');

  // Per check, as the blackbox exporter has probe_success and probe_duration_seconds per target:
  // two series per check, set by checkSeries() below, removed with the check.
  const checkUp = new Gauge({
    name: `${METRIC_PREFIX}check_up`,
    help: "1 when the check's last run succeeded, 0 when it failed; absent before its first run and while it cannot run on this machine.",
    labelNames: ['target', 'check', 'kind'] as const,
    registers,
  });
  const checkDuration = new Gauge({
    name: `${METRIC_PREFIX}check_duration_seconds`,
    help: "Duration of the check's last run, in seconds.",
    labelNames: ['target', 'check', 'kind'] as const,
    registers,
  });
  const checks = new Gauge({
    name: `${METRIC_PREFIX}checks`,
    help: 'Configured checks by state: up, down, unknown (not run yet), cannot-run (this machine cannot run the probe, e.g. ping is missing).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const counts = opts.checkCounts?.();
      if (!counts) return;
      for (const state of CHECK_STATES) this.set({ state }, counts[state]);
    },
  });

  const silences = new Gauge({
    name: `${METRIC_PREFIX}silences`,
    help: 'Silences by state: pending (not started yet), active, expired (ended, kept for the record).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const counts = opts.silenceCounts?.();
      if (!counts) return;
      for (const state of SILENCE_STATES) this.set({ state }, counts[state]);
    },
  });

  // Severities and results are known up front; zero series let rate() work from the first scrape.
  for (const severity of SEVERITIES) {
    incidentsOpened.inc({ severity }, 0);
    incidentsResolved.inc({ severity }, 0);
    // Breaches are not zeroed: their tier and tenant are known only when one happens.
    timeToAcknowledge.zero({ severity });
    timeToResolve.zero({ severity });
  }
  for (const result of ['ok', 'error']) configReloads.inc({ result }, 0);

  return {
    registry,
    probeRuns,
    probeLatency,
    scheduleSlip,
    probeSkipped,
    signals,
    incidentsOpened,
    incidentsResolved,
    activeIncidents,
    pipelineLatency,
    configReloads,
    signalQueue,
    signalQueueLimit,
    signalsRefused,
    trapPackets,
    notificationsDelivered,
    notificationRetries,
    notificationsDead,
    outboxDeliveries,
    escalations,
    slaBreaches,
    timeToAcknowledge,
    timeToResolve,
    journalWrite,
    journalRecords,
    journalErrors,
    ruleEvaluationErrors,
    checkUp,
    checkDuration,
    checks,
    silences,
  };
}

/** A check's labels, built once, and the value its check_up series has (undefined: absent). */
interface CheckSeriesState {
  labels: { target: string; check: string; kind: string };
  up: 0 | 1 | undefined;
}

/**
 * Keeps the per-check series in step with the check-status table: set after each run, removed
 * when the check cannot run or is removed by a reload, so no series outlives its check. Per check
 * (a status entry lives as long as its check) one labels object serves every run, and check_up is
 * written only when it changes: each write hashes the labels and replaces the stored sample,
 * about 500 times a second at 15,000 checks.
 */
export function checkSeries(metrics: Pick<Metrics, 'checkUp' | 'checkDuration'>): CheckStatusObserver {
  const series = new WeakMap<Readonly<CheckStatus>, CheckSeriesState>();
  const stateOf = (s: Readonly<CheckStatus>): CheckSeriesState => {
    let state = series.get(s);
    if (!state) series.set(s, (state = { labels: { target: s.targetId, check: s.checkName, kind: s.kind }, up: undefined }));
    return state;
  };
  return {
    changed(s) {
      const state = stateOf(s);
      if ((s.state === 'up' || s.state === 'down') && s.latencyMs !== null) {
        const up = s.state === 'up' ? 1 : 0;
        if (state.up !== up) metrics.checkUp.set(state.labels, up);
        state.up = up;
        metrics.checkDuration.set(state.labels, s.latencyMs / 1000);
      } else {
        metrics.checkUp.remove(state.labels);
        metrics.checkDuration.remove(state.labels);
        state.up = undefined;
      }
    },
    removed(s) {
      const state = stateOf(s);
      metrics.checkUp.remove(state.labels);
      metrics.checkDuration.remove(state.labels);
      series.delete(s);
    },
  };
}
