// The configuration after loading and validation: durations in milliseconds, defaults filled.
// Consumers depend on these types, not on the zod schemas that produce them.
import type { Impact, Severity, Tier } from '../domain/classification.js';
import type { ChannelConfig } from '../notify/registry.js';
import type { BusinessHoursConfig } from '../incidents/calendar.js';
import type { MaintenanceWindowConfig } from '../incidents/maintenance.js';

export interface ApiToken {
  name: string;
  token: string;
}

export type StoreConfig =
  | { type: 'sqlite'; path: string }
  | { type: 'mongodb'; uri: string; database: string };

export interface IncidentPolicy {
  /** A resolved incident that recurs within this window is reopened instead of a new one opening. */
  reopenWindowMs: number;
  /** A resolved incident is closed this long after its resolution; null: never. */
  closeAfterMs: number | null;
  /** A fingerprint with `threshold` or more state changes within `windowMs` is flapping. */
  flapping: { windowMs: number; threshold: number };
  /** Classification of failing signals that no rule matches. */
  uncategorized: { category: string; severity: Severity; impact: Impact; tier: Tier };
  /** Most subscribers one incident keeps; addresses beyond are refused (API) or dropped (alerts). */
  maxSubscribers: number;
}

/** What one severity class asks of escalation. */
export interface SeverityPolicy {
  /** Tier that takes it first (a rule naming a higher tier wins). */
  tier: Tier;
  /** SLA: time to acknowledge / to resolve, or null for none. */
  ackMs: number | null;
  resolveMs: number | null;
  /** SLA clocks and escalation waits count only the business hours of the incident's site. */
  businessHours: boolean;
  /** Channels told at once besides the tier's (e.g. a major-incident channel); `*` = all. */
  notify: string[];
}

export interface TierPolicy {
  /** Channel ids this tier hears on; `*` = every configured channel. */
  channels: string[];
  /** How long an unacknowledged incident waits here before `next` is told; null: never. */
  escalateAfterMs: number | null;
  next: Tier | null;
}

export interface EscalationPolicy {
  sweepIntervalMs: number;
  severities: Record<Severity, SeverityPolicy>;
  tiers: Record<Tier, TierPolicy>;
}

export type SourceType = 'generic' | 'alertmanager' | 'pagerduty';

/** An alert source: who may push alerts, and how its alerts become signals. */
export interface SourceConfig {
  /** Unique; becomes the signal's `source`. */
  id: string;
  type: SourceType;
  /** Bearer tokens of this source (generic, alertmanager); empty for pagerduty. */
  tokens: string[];
  /** PagerDuty routing keys that name this source; empty for the other types. */
  routingKeys: string[];
  /** Its alerts may name subscribers (generic sources; the others never carry any). */
  allowSubscribers: boolean;
  /** Added to every signal of this source; the alert's own labels win. */
  labels: Record<string, string>;
  target: {
    /** Label naming the target (alertmanager; default `instance`). */
    fromLabel: string;
    /** Target kind when the alert does not say (default `server`, `service` for pagerduty). */
    kind: string;
    /** Label naming the target's site, if any. */
    siteLabel: string | null;
  };
}

export interface IngestConfig {
  /** Most signals waiting for the store; above it the alert endpoints answer 429. */
  maxQueue: number;
  /** Largest request body the alert endpoints accept (413 above). */
  maxBodyBytes: number;
  /** The intake journal's directory; null: the default next to the store (see app.ts). */
  journalDir: string | null;
}

/** An SNMPv3 user the trap receiver accepts (authNoPriv or authPriv need the sender's keys). */
export interface SnmpTrapUser {
  name: string;
  level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
  authProtocol: string;
  authKey: string | null;
  privProtocol: string;
  privKey: string | null;
}

/** The SNMP trap receiver: where it listens, whom it believes, how traps name their target. */
export interface SnmpTrapConfig {
  enabled: boolean;
  /** Address the UDP socket binds; an IPv6 address selects udp6. */
  host: string;
  port: number;
  /** v1/v2c communities accepted; a trap with any other community is dropped. */
  communities: string[];
  /** v3 users accepted. */
  users: SnmpTrapUser[];
  target: {
    /** Kind of a target named only by the sender's address (default `device`). */
    kind: string;
    /** Label (of `labels`) naming the target's site, if any. */
    siteLabel: string | null;
  };
  /** Added to every trap signal. */
  labels: Record<string, string>;
}

export interface DaemonConfig {
  listen: { host: string; port: number };
  store: StoreConfig;
  api: { tokens: ApiToken[] };
  incidents: IncidentPolicy;
  scheduler: { concurrency: number; jitter: number };
  sources: SourceConfig[];
  ingest: IngestConfig;
  /** Limits of the configuration files themselves. */
  config: { maxFileBytes: number };
  snmpTraps: SnmpTrapConfig;
  /** As written (snake_case): the channel kinds read their own schema's keys. Paths are absolute. */
  channels: ChannelConfig[];
  escalation: EscalationPolicy;
  /** Channels that keep subscribers informed; they hear every incident from its opening. */
  communication: { channels: string[] };
  /** As written (snake_case), compiled by src/incidents/calendar.ts. */
  businessHours: BusinessHoursConfig[];
  /** As written (snake_case), compiled by src/incidents/maintenance.ts. */
  maintenance: MaintenanceWindowConfig[];
}

export interface CheckConfig {
  /** Unique within its target. */
  name: string;
  type: string;
  intervalMs: number;
  timeoutMs: number;
  /** The kind-specific fields, already validated by the kind's schema. */
  spec: Record<string, unknown>;
}

export interface TargetConfig {
  id: string;
  kind: string;
  name: string;
  site: string;
  labels: Record<string, string>;
  dependsOn: string[];
  /** Addresses or names it sends SNMP traps from, besides its checks' hosts (src/app/trap-targets.ts). */
  trapSources: string[];
  checks: CheckConfig[];
}

export interface RuleConfig {
  id: string;
  when: string;
  classify: { category: string; severity: Severity; impact: Impact; tier: Tier };
  title: string;
  description: string;
  runbook: string;
  /** Signal fields whose values make up the fingerprint, e.g. `target.id`, `rule.id`, `labels.alertname`. */
  dedupBy: string[];
  openAfter: number;
  resolveAfter: number;
  continue: boolean;
  /** Where the rule was written, for messages. */
  file: string;
}
