// The whole daemon configuration after loading and validation: the core sections (src/config-core),
// and the sections each plug-in stage owns, assembled here at the top.
import type { ApiToken, EscalationPolicy, IncidentPolicy, IngestConfig, StoreConfig } from '../config-core/types.js';
import type { ChannelConfig } from '../notify/registry.js';
import type { BusinessHoursConfig } from '../incidents/calendar.js';
import type { MaintenanceWindowConfig } from '../incidents/maintenance.js';
import type { SourceConfig } from '../sources/config.js';
import type { SnmpTrapConfig } from '../sources/snmp-trap/config.js';

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
