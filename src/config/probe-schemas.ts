// The zod schemas of probes/*.yaml. Apart from ./schemas.ts (the daemon file's, which takes in
// every channel, source and rule schema), so the probe file loader (./probe-worker.ts, a thread of
// its own for a large inventory) loads only what it needs.
import { z } from 'zod';
import { duration, labelValue } from '../config-core/fields.js';
import { describeValue } from '../config-core/yaml.js';
import { probeKinds } from '../probe-kinds/registry.js';
import { tenantRefField } from './tenant-refs.js';


export const TARGET_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Fields every check has, whatever its type; the kind's own fields come on top. */
export const commonCheckFields = {
  type: z.string().describe('Probe kind.'),
  name: z.string().min(1).optional().describe('Check name, unique within the target. Default depends on the type, e.g. `tcp:22`.'),
  interval: duration.optional().describe('How often the check runs. Default: the file `defaults.interval`, else 30s.'),
  timeout: duration.optional().describe('How long one run may take; must be shorter than the interval. Default: `defaults.timeout`, else 5s.'),
};

/** Checks are validated in two steps: these common fields here, the kind's own fields by the kind. */
export const checkCommonSchema = z.looseObject(commonCheckFields);

function targetSchema<C extends z.ZodType>(check: C) {
  return z.strictObject({
    id: z
      .string()
      .regex(TARGET_ID_PATTERN, {
        error: (iss) =>
          `target id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
      })
      .describe('Unique id of the target across all probe files, e.g. `ap-floor2`.'),
    kind: z.string().min(1).default('server').describe('What it is: wifi-ap, server, printer, mail, or any word.'),
    name: z.string().min(1).optional().describe('Display name. Default: the id.'),
    site: z.string().default('').describe('Site or location, e.g. `hq`.'),
    labels: z.record(z.string(), labelValue()).default({}).describe('Free-form labels, available to rules as `target.labels`.'),
    depends_on: z
      .array(z.string())
      .default([])
      .describe('Ids of parent targets (e.g. the switch an AP hangs on); their failure suppresses this one.'),
    tenant: tenantRefField
      .optional()
      .describe('Tenant (customer) the target belongs to; wins over the file\'s `tenant`. Default: the file\'s, else default.'),
    trap_sources: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Addresses or host names this target sends SNMP traps from, when not the `host` of one of its checks (another interface, a NAT). Names are resolved at load and reload.',
      ),
    checks: z.array(check).default([]).describe('Checks of this target.'),
  });
}

const probesDefaults = z
  .strictObject({
    interval: duration.optional().describe('Default interval of the checks in this file.'),
    timeout: duration.optional().describe('Default timeout of the checks in this file.'),
  })
  .optional()
  .describe('Defaults for the checks in this file.');

/** One target as the loader validates it; each check is validated on its own after. */
export const targetSchemaForLoading = targetSchema(z.unknown());

/** The probe file shape the loader validates first (checks only by their common fields). */
const probesTenant = tenantRefField.optional().describe('Tenant (customer) of every target in this file that names none. Default: default.');

export const probesFileSchema = z.strictObject({
  tenant: probesTenant,
  defaults: probesDefaults,
  targets: z.array(targetSchema(checkCommonSchema)).describe('Targets to watch.'),
});

export type ProbesFile = z.output<typeof probesFileSchema>;

/** The full probe file shape for editors: each check is a union of every registered kind. */
export function probesJsonSchemaSource(): z.ZodType {
  const options = [...probeKinds.values()].map((kind) =>
    z
      .strictObject({
        ...commonCheckFields,
        type: z.literal(kind.type).describe(`Probe kind \`${kind.type}\`.`),
        ...kind.schema.shape,
      })
      .describe(`Check of type \`${kind.type}\`.`),
  );
  const check =
    options.length >= 2
      ? z.discriminatedUnion('type', options as [z.ZodObject, z.ZodObject, ...z.ZodObject[]])
      : (options[0] ?? checkCommonSchema);
  return z
    .strictObject({ tenant: probesTenant, defaults: probesDefaults, targets: z.array(targetSchema(check)).describe('Targets to watch.') })
    .describe('incidentd probe file (probes/*.yaml): targets and their checks.');
}
