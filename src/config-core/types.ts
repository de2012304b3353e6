// The configuration types several stages use. The core sections' types are the parsed output of
// their schemas (./schemas.ts). Targets and checks are assembled by the loader by hand: a check's
// interval and timeout fall back to its file's `defaults`, and its own fields are validated by its
// probe kind's schema, so no single schema produces them.
export type {
  ApiToken,
  AuthConfig,
  EscalationPolicy,
  IncidentPolicy,
  IngestConfig,
  SeverityPolicy,
  StoreConfig,
  TierPolicy,
} from './schemas.js';

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
  /** The tenant (customer) it belongs to: its own `tenant`, else its probe file's, else DEFAULT_TENANT. */
  tenant: string;
  /** Addresses or names it sends SNMP traps from, besides its checks' hosts (src/app/trap-targets.ts). */
  trapSources: string[];
  checks: CheckConfig[];
  /** The probe file it is written in, as read (for messages about it, e.g. a removed check). */
  file: string;
}
