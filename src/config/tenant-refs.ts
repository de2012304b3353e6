// A tenant as a target, probe file or source names it, and whether the configured tenants know it.
// Apart from ./tenants.ts (the tenants list itself, with its time zones and escalation), so the
// probe file loader (./probe-worker.ts) loads only this.
import { z } from 'zod';
import { DEFAULT_TENANT } from '../domain/principal.js';
import { didYouMean, describeValue } from '../config-core/yaml.js';

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** A tenant id as written where a target, probe file or source names its tenant. */
export const tenantRefField = z
  .string()
  .regex(TENANT_ID_PATTERN, {
    error: (iss) => `tenant id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
  })
  .describe(`Tenant (customer) it belongs to: an id from tenants in incidentd.yaml. Default: ${DEFAULT_TENANT}.`);

/** Every tenant id a reference may name: the configured ones and DEFAULT_TENANT. */
export function knownTenantIds(tenants: readonly { id: string }[]): string[] {
  const ids = tenants.map((t) => t.id);
  return ids.includes(DEFAULT_TENANT) ? ids : [DEFAULT_TENANT, ...ids];
}

/** Why a reference to `ref` is wrong, or null when it names a known tenant. */
export function unknownTenantMessage(ref: string, known: readonly string[]): string | null {
  if (known.includes(ref)) return null;
  const configured = known.filter((k) => k !== DEFAULT_TENANT);
  const suggestion = didYouMean(ref, known);
  const list = configured.length > 0 ? `configured tenants: ${configured.join(', ')}` : 'no tenants are configured (add them under tenants in incidentd.yaml)';
  return `unknown tenant "${ref}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; ${list}`;
}
