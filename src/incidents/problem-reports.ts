// Filing a problem report: the report becomes a signal (source `report`) that the manager commits
// like any other, so the rules classify it and the fingerprint decides whether it opens an incident
// or joins the active one. A report about a device picked from the form (`target`) that has an
// active incident of the tenant already, whatever opened it (a probe, an alert), joins that one
// instead. Then the report is stored with that incident, the person goes on its timeline and its
// subscribers, and the impact widens to what the reporters say. Joining sends no opening mail, so
// the reporter's receipt (number, status) goes into the outbox with the report.
import { randomUUID } from 'node:crypto';
import { IMPACTS, type Impact } from '../domain/classification.js';
import { outboxEventId, REPORT_RECEIVED_EVENT, type OutboxEvent } from '../domain/events.js';
import type { Incident, IncidentStatus, TimelineEntry } from '../domain/incident.js';
import { DEFAULT_TENANT, type TenantScope } from '../domain/principal.js';
import {
  categoryOfKind,
  impactFromReports,
  looksLikeAddress,
  REPORT_CATEGORIES,
  REPORT_SOURCE,
  reportedMessage,
  reportSignal,
  reportTarget,
  type ProblemReport,
  type ReportAffected,
  type ReportCategory,
} from '../domain/problem-report.js';
import { tenantOf, type Signal, type TargetRef } from '../domain/signal.js';
import type { RuleEngine } from '../rules/types.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { IncidentStore, Page } from '../store/types.js';
import type { IncidentCommands } from './types.js';

/** A report the form's rules refuse: `field` names what to correct. */
export class InvalidReportError extends IncidentdError {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Another person's report, or one that does not exist: answered alike. */
export class ProblemReportNotFoundError extends IncidentdError {
  constructor(readonly reportId: string) {
    super(`report ${reportId} does not exist`);
  }
}

/** The person filing or reading reports. */
export interface Reporter {
  /** Whose reports these are: stable per person (or token). */
  id: string;
  /** The local account, whose mail address gets the receipt; null for single sign-on and tokens. */
  accountId: string | null;
  name: string;
  tenants: TenantScope;
}

/** What the person wrote (already checked for shape and length by the API). */
export interface ReportInput {
  tenant?: string | undefined;
  category: ReportCategory;
  description: string;
  site?: string | undefined;
  room?: string | undefined;
  target?: string | undefined;
  affected: ReportAffected;
  since?: number | undefined;
  contact?: string | undefined;
}

export interface ReportReceipt {
  id: string;
  /** The incident's number; null when its rule holds openings back (open_after > 1). */
  number: string | null;
  /** It joined an incident that was active already. */
  joined: boolean;
  status: IncidentStatus | null;
  /** People who reported the incident so far. */
  affected: number;
  hint: string | null;
}

export interface ReportForm {
  tenants: { id: string; name: string }[];
  categories: { id: ReportCategory; hint: string | null }[];
  sites: { tenant: string; name: string }[];
  targets: { tenant: string; id: string; name: string; site: string; category: ReportCategory }[];
}

/** A report with the state of its incident, as "my reports" show it. */
export interface ReportStatus {
  report: ProblemReport;
  incident: Incident | null;
  /** People who reported its incident. */
  affected: number;
  hint: string | null;
}

export interface ProblemReportsDeps {
  store: IncidentStore;
  /** Commits the report's signal (resolves once committed) and changes the impact. */
  manager: Pick<IncidentCommands, 'reclassify'> & { submit(signal: Signal): Promise<void> };
  clock: Clock;
  logger: Logger;
  /** Read on every call: a reload changes rules, targets and tenants. */
  current: () => {
    engine: RuleEngine;
    targets: ReadonlyMap<string, TargetRef>;
    /** The configured tenants (the default tenant is always there). */
    tenants: readonly { id: string; name: string }[];
    maxSubscribers: number;
    /** The channels that keep an incident's people informed (communication.channels, `*` expanded). */
    receiptChannels?: readonly string[];
  };
}

export class ProblemReports {
  constructor(private readonly deps: ProblemReportsDeps) {}

  /** The tenants the person may report for: configured ones the scope sees, the default first. */
  private tenantsOf(scope: TenantScope): { id: string; name: string }[] {
    const known = [{ id: DEFAULT_TENANT, name: DEFAULT_TENANT }, ...this.deps.current().tenants.filter((t) => t.id !== DEFAULT_TENANT)];
    const seen = known.filter((t) => scope.all || scope.tenants.includes(t.id));
    // With tenants configured, an MSP's own staff rarely mean "default"; keep it only when it is all there is
    // or the person is scoped to it.
    if (seen.length > 1 && (scope.all || !scope.tenants.includes(DEFAULT_TENANT))) return seen.filter((t) => t.id !== DEFAULT_TENANT);
    return seen;
  }

  form(person: Reporter): ReportForm {
    const { engine, targets } = this.deps.current();
    const tenants = this.tenantsOf(person.tenants);
    const ids = new Set(tenants.map((t) => t.id));
    const sites = new Map<string, { tenant: string; name: string }>();
    const list: ReportForm['targets'] = [];
    for (const t of targets.values()) {
      const tenant = tenantOf(t);
      if (!ids.has(tenant)) continue;
      if (t.site !== '') sites.set(`${tenant}\u0000${t.site}`, { tenant, name: t.site });
      list.push({ tenant, id: t.id, name: t.name, site: t.site, category: categoryOfKind(t.kind) });
    }
    const first = tenants[0]?.id ?? DEFAULT_TENANT;
    const categories = REPORT_CATEGORIES.map((id) => ({ id, hint: this.categoryHint(engine, first, id) }));
    const bySite = (a: { tenant: string; name: string }, b: { tenant: string; name: string }) => a.tenant.localeCompare(b.tenant) || a.name.localeCompare(b.name);
    list.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return { tenants, categories, sites: [...sites.values()].sort(bySite), targets: list };
  }

  /** The hint of the rule a report of this category (about nothing in particular) is classified by. */
  private categoryHint(engine: RuleEngine, tenant: string, category: ReportCategory): string | null {
    const signal = reportSignal(
      { category, description: '', site: null, room: null, affected: 'me', reporterName: '', tenant },
      reportTarget(tenant, category, null, null),
      this.deps.clock.now(),
      [],
    );
    return engine.classify(signal)[0]?.hint ?? null;
  }

  private resolveTenant(person: Reporter, asked: string | undefined): string {
    const tenants = this.tenantsOf(person.tenants).map((t) => t.id);
    if (asked !== undefined) {
      // Another tenant's id and one that does not exist get the same answer.
      if (!tenants.includes(asked)) throw new InvalidReportError('tenant', `no tenant "${asked}" you may report for`);
      return asked;
    }
    if (tenants.length === 1) return tenants[0]!;
    if (tenants.length === 0) throw new InvalidReportError('tenant', 'you may report for no tenant');
    throw new InvalidReportError('tenant', `say which tenant the report is for: one of ${tenants.join(', ')}`);
  }

  async file(person: Reporter, input: ReportInput): Promise<ReportReceipt> {
    const { store, clock, manager, logger } = this.deps;
    const { engine, targets, maxSubscribers, receiptChannels = [] } = this.deps.current();
    const tenant = this.resolveTenant(person, input.tenant);
    let target: TargetRef | null = null;
    if (input.target !== undefined) {
      const t = targets.get(input.target);
      if (t === undefined || tenantOf(t) !== tenant) throw new InvalidReportError('target', `no target "${input.target}" in tenant ${tenant}`);
      target = t;
    }
    let site = input.site ?? null;
    if (site !== null && !this.hasSite(targets, tenant, site)) throw new InvalidReportError('site', `no site "${site}" in tenant ${tenant}`);
    if (target !== null && site !== null && target.site !== '' && target.site !== site) {
      throw new InvalidReportError('site', `target "${target.id}" is at site "${target.site}", not "${site}"`);
    }
    if (site === null && target !== null && target.site !== '') site = target.site;

    const at = clock.now();
    const address = await this.addressOf(person, input.contact);
    const report: ProblemReport = {
      id: randomUUID(),
      tenant,
      reporterId: person.id,
      reporterName: person.name,
      createdAt: at,
      category: input.category,
      description: input.description,
      site,
      room: input.room ?? null,
      target: target?.id ?? null,
      affected: input.affected,
      since: input.since ?? null,
      contact: input.contact ?? null,
      incident: null,
    };
    const signal = reportSignal(report, reportTarget(tenant, input.category, site, target), at, address === null ? [] : [address]);
    const match = engine.classify(signal)[0];
    const fingerprint = match?.fingerprint ?? null;
    let before = fingerprint === null ? null : await this.active(fingerprint);
    let incident: Incident | null;
    // A device the monitoring already has an incident about: the report joins that incident
    // (opened by a probe or an alert) rather than opening a second one about the same device.
    const onTarget = before === null && target !== null ? await this.activeOnTarget(tenant, target.id) : null;
    if (onTarget !== null) {
      before = onTarget;
      incident = onTarget;
    } else {
      await manager.submit(signal);
      incident = fingerprint === null ? null : await this.active(fingerprint);
    }
    report.incident = incident?.number ?? null;

    const entry: TimelineEntry | null =
      incident === null ? null : { at, actor: person.name, action: 'reported', message: reportedMessage(person.name, input.affected, input.description) };
    // Joining a known incident sends no opening mail: the reporter's receipt goes out through the
    // outbox, written with the report, so a restart loses nothing. (An opening tells its subscribers.)
    const joined = before !== null && incident !== null && before.number === incident.number;
    const receipt =
      joined && address !== null && incident !== null
        ? { event: receiptEvent(incident.number, report.id, at, address), channels: [...receiptChannels] }
        : null;
    const { reporters } = await store.fileProblemReport({ report, entry, subscriber: address, maxSubscribers, receipt });

    if (incident !== null) {
      const wanted = impactFromReports(input.affected, reporters);
      if (IMPACTS.indexOf(wanted) > IMPACTS.indexOf(incident.impact)) incident = await this.widen(incident, wanted, person, input.affected, reporters);
    }
    logger.info({ report: report.id, tenant, category: input.category, incident: report.incident, joined: before !== null }, 'problem reported');
    return {
      id: report.id,
      number: incident?.number ?? null,
      joined,
      status: incident?.status ?? null,
      affected: reporters,
      hint: incident === null ? (match?.hint ?? null) : engine.hintOf(incident.ruleId),
    };
  }

  /** Widens the impact; a person who resolved it in between wins (the report stays recorded). */
  private async widen(incident: Incident, impact: Impact, person: Reporter, affected: ReportAffected, reporters: number): Promise<Incident> {
    const why =
      impact === 'multiple-users' && affected !== 'several'
        ? `${reporters} people reported it`
        : `reported by ${person.name} as affecting ${affected === 'site' ? 'the whole site' : 'several people'}`;
    try {
      return await this.deps.manager.reclassify(incident.number, { impact }, person.name, why);
    } catch (err) {
      this.deps.logger.warn({ incident: incident.number, err }, 'the impact of a reported incident could not be widened');
      return (await this.deps.store.get(incident.number)) ?? incident;
    }
  }

  private hasSite(targets: ReadonlyMap<string, TargetRef>, tenant: string, site: string): boolean {
    for (const t of targets.values()) if (t.site === site && tenantOf(t) === tenant) return true;
    return false;
  }

  /** The newest active incident of the tenant about the target, whatever opened it. */
  private async activeOnTarget(tenant: string, target: string): Promise<Incident | null> {
    const page = await this.deps.store.list({ tenant: [tenant], target, status: ['open', 'acknowledged'] }, 1);
    return page.items[0] ?? null;
  }

  private async active(fingerprint: string): Promise<Incident | null> {
    const page = await this.deps.store.list({ fingerprint, status: ['open', 'acknowledged'] }, 1);
    return page.items[0] ?? null;
  }

  /** Where the receipt and the updates go: the account's mail address, else a contact that is one. */
  private async addressOf(person: Reporter, contact: string | undefined): Promise<string | null> {
    const user = person.accountId === null ? null : await this.deps.store.getUser(person.accountId);
    if (user !== null && looksLikeAddress(user.email)) return user.email;
    if (contact !== undefined && looksLikeAddress(contact.trim())) return contact.trim();
    return null;
  }

  /** One of the person's own reports; another's (or none) throws ProblemReportNotFoundError. */
  async get(person: Reporter, id: string): Promise<ReportStatus> {
    const report = await this.deps.store.getProblemReport(id);
    if (report === null || report.reporterId !== person.id) throw new ProblemReportNotFoundError(id);
    const [status] = await this.statuses([report]);
    return status!;
  }

  /** The person's own reports, newest first. */
  async list(person: Reporter, limit: number, cursor: string | null): Promise<Page<ReportStatus>> {
    const page = await this.deps.store.listProblemReports(person.id, limit, cursor);
    return { items: await this.statuses(page.items), next: page.next };
  }

  private async statuses(reports: readonly ProblemReport[]): Promise<ReportStatus[]> {
    const { store } = this.deps;
    const { engine } = this.deps.current();
    const numbers = [...new Set(reports.map((r) => r.incident).filter((n): n is string => n !== null))];
    const incidents = new Map<string, Incident>();
    for (const n of numbers) {
      const inc = await store.get(n);
      if (inc !== null) incidents.set(n, inc);
    }
    const counts = await store.countReporters(numbers);
    return reports.map((report) => {
      const incident = report.incident === null ? null : (incidents.get(report.incident) ?? null);
      return {
        report,
        incident,
        affected: report.incident === null ? 1 : (counts.get(report.incident) ?? 1),
        hint: incident === null ? null : engine.hintOf(incident.ruleId),
      };
    });
  }
}

/** The receipt of one report: its id in the event's id, so two reports at one instant get two mails. */
export function receiptEvent(number: string, reportId: string, at: number, address: string): OutboxEvent {
  return { id: `${outboxEventId(number, REPORT_RECEIVED_EVENT, at)}:${reportId}`, type: REPORT_RECEIVED_EVENT, at, number, to: [address] };
}

export { REPORT_SOURCE };
