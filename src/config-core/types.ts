// The core sections of the configuration after loading and validation (durations in milliseconds,
// defaults filled), used by several stages. Plug-ins keep their own next to their code.
import type { Impact, Severity, Tier } from '../domain/classification.js';

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

export interface IngestConfig {
  /** Most signals waiting for the store; above it the alert endpoints answer 429. */
  maxQueue: number;
  /** Largest request body the alert endpoints accept (413 above). */
  maxBodyBytes: number;
  /** The intake journal's directory; null: the default next to the store (see app.ts). */
  journalDir: string | null;
}
