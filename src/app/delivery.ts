// The delivery side of the daemon, as start-up steps: the channels (built once), the outbox that
// delivers through them, and the escalation sweep, with the escalation context that follows the
// config in force.
import type { Metrics } from '../api/metrics.js';
import type { LoadedConfig } from '../config/load.js';
import { Calendars } from '../incidents/calendar.js';
import { escalationContext, type EscalationContext } from '../incidents/escalation.js';
import { Escalator } from '../incidents/escalator.js';
import { MaintenanceWindows } from '../incidents/maintenance.js';
import { Outbox } from '../notify/outbox.js';
import { createChannel } from '../notify/registry.js';
import type { Channel } from '../notify/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { IncidentStore } from '../store/types.js';
import type { LiveConfig } from './reload.js';
import type { Started } from './startup.js';
import { whenStoreOpen } from './store-open.js';
import type { ActiveSilences } from '../incidents/silences.js';
import { reportCalendars, type ReportCalendar } from '../incidents/report-calendars.js';
import { ReportMailer } from '../incidents/report-mailer.js';

/**
 * Channels are built once (a broken template or CA file stops the start, like any config error);
 * every incident event goes to every channel through the outbox.
 */
export function buildChannels(cfg: LoadedConfig, clock: Clock, logger: Logger): Started<ReadonlyMap<string, Channel>> {
  const built = new Map<string, Channel>();
  const closeAll = async () => {
    for (const c of [...built.values()].reverse()) await c.close?.();
  };
  try {
    for (const c of cfg.daemon.channels) built.set(c.id, createChannel(c, { clock, logger: logger.child({ channel: c.id }) }));
  } catch (err) {
    // The channels built before the broken one are closed here: the step never returned them.
    void closeAll().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'closing a channel failed'));
    throw err;
  }
  return { value: built, stop: closeAll };
}

export interface DeliveryDeps {
  store: IncidentStore;
  /** Null: open now; else the outbox and the sweep start once it opens. */
  storeOpen: Promise<void> | null;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** The outbox, when there are channels; it starts delivering once the store is open. */
export function startOutbox(deps: DeliveryDeps & { channels: ReadonlyMap<string, Channel>; instanceId: string }): Started<Outbox | null> {
  const { channels, logger, metrics } = deps;
  if (channels.size === 0) return { value: null, stop: null };
  const outbox = new Outbox({
    store: deps.store,
    channels: () => channels,
    clock: deps.clock,
    logger: logger.child({ stage: 'outbox' }),
    // The journal directory belongs to this one instance and keeps its id across restarts, so a
    // restart after a crash takes back the deliveries its predecessor had claimed at once.
    owner: `instance-${deps.instanceId}`,
    onDelivered: (channel) => metrics.notificationsDelivered.inc({ channel }),
    onRetry: (channel) => metrics.notificationRetries.inc({ channel }),
    onDead: (channel) => metrics.notificationsDead.inc({ channel }),
  });
  const starting = whenStoreOpen(deps.storeOpen, () => {
    outbox.start();
    logger.info({ channels: [...channels.keys()] }, 'outbox delivering');
  });
  return {
    value: outbox,
    stop: () => {
      starting.cancel();
      return outbox.stop();
    },
  };
}

/**
 * Timers are in the store: the sweep runs whether or not channels exist, so SLA breaches are
 * recorded and counted either way.
 */
export function startEscalator(
  deps: DeliveryDeps & { live: LiveConfig; escalation: () => EscalationContext; outbox: Outbox | null },
): Started<Escalator> {
  const { logger, metrics, outbox, live } = deps;
  const escalator = new Escalator({
    store: deps.store,
    clock: deps.clock,
    logger: logger.child({ stage: 'escalation' }),
    context: deps.escalation,
    closeAfterMs: () => live.cfg.daemon.incidents.closeAfterMs,
    onClosed: (numbers) => logger.info({ closed: numbers.length }, 'closed resolved incidents'),
    hooks: {
      escalated: (tier, severity) => metrics.escalations.inc({ tier, severity }),
      breached: (sla, severity, tier, tenant) => metrics.slaBreaches.inc({ sla, severity, tier, tenant }),
      notified: () => void outbox?.kick(),
    },
  });
  const starting = whenStoreOpen(deps.storeOpen, () => escalator.start());
  return {
    value: escalator,
    stop: () => {
      starting.cancel();
      return escalator.stop();
    },
  };
}

/**
 * Follows the config in force, so a reload changes tiers, SLAs, business hours and maintenance
 * windows at once; compiled once per loaded config (calendars cache their days).
 */
export function escalationFollowing(live: LiveConfig, channelIds: string[], silences?: ActiveSilences): () => EscalationContext {
  let compiled: { cfg: LoadedConfig; ctx: EscalationContext } | null = null;
  return () => {
    const cfg = live.cfg;
    if (compiled?.cfg !== cfg) {
      const calendars = new Calendars(cfg.daemon.businessHours);
      const windows = new MaintenanceWindows(cfg.daemon.maintenance);
      compiled = {
        cfg,
        ctx: escalationContext(cfg.daemon.escalation, channelIds, {
          communication: cfg.daemon.communication.channels,
          calendarFor: (site) => calendars.forSite(site),
          maintenance: (target, at) => windows.active(target, at),
          silenced: silences ? (subject, at) => silences.match(subject, at) : undefined,
          tenantPolicies: new Map(cfg.daemon.tenants.flatMap((t) => (t.escalation === null ? [] : [[t.id, t.escalation] as const]))),
        }),
      };
    }
    return compiled.ctx;
  };
}

/** The calendars of business time in reports, following the config in force (compiled once per config). */
export function reportCalendarFollowing(live: LiveConfig): ReportCalendar {
  let compiled: { cfg: LoadedConfig; calendar: ReportCalendar } | null = null;
  return (tenant, severity, site) => {
    const cfg = live.cfg;
    if (compiled?.cfg !== cfg) {
      const own = new Map(cfg.daemon.tenants.flatMap((t) => (t.escalation === null ? [] : [[t.id, t.escalation] as const])));
      compiled = { cfg, calendar: reportCalendars(cfg.daemon.businessHours, cfg.daemon.escalation, own) };
    }
    return compiled.calendar(tenant, severity, site);
  };
}

/**
 * The scheduled report mails of the tenants (tenants[].reports), once the store is open; queued
 * through the outbox, so nothing runs without channels (the config check demands an email one).
 */
export function startReportMailer(deps: DeliveryDeps & { live: LiveConfig; outbox: Outbox | null }): Started<ReportMailer | null> {
  if (deps.outbox === null) return { value: null, stop: null };
  const outbox = deps.outbox;
  const mailer = new ReportMailer({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger.child({ stage: 'report-mail' }),
    tenants: () => deps.live.cfg.daemon.tenants,
    queued: () => void outbox.kick(),
  });
  const starting = whenStoreOpen(deps.storeOpen, () => mailer.start());
  return {
    value: mailer,
    stop: () => {
      starting.cancel();
      return mailer.stop();
    },
  };
}
