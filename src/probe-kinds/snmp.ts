// snmp: generic GET and WALK over SNMP v1, v2c and v3. Named OIDs become values; counters become
// per-second rates between runs. Thresholds are not here: rules compare the values.
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { SystemClock, type Clock } from '../shared/clock.js';
import { ObjectType, objectTypeName } from './snmp/net-snmp.js';
import {
  checkConnection,
  connectionShape,
  isCounterType,
  normaliseOid,
  oidSchema,
  oidSuffix,
  runSnmp,
  varbindBigInt,
  varbindValue,
} from './snmp/session.js';
import type { ProbeContext, ProbeKind } from './types.js';

/** More named OIDs than this in one check belong in several checks. */
const MAX_NAMES = 200;
const COUNTER32_WRAP = 2n ** 32n;

const valueName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'value names are letters, digits and _, starting with a letter or _ (rules use them as values.<name>)' });

const namedOids = z
  .record(valueName, oidSchema)
  .refine((r) => Object.keys(r).length <= MAX_NAMES, { message: `at most ${MAX_NAMES} names per check` });

const schema = z
  .strictObject({
    ...connectionShape,
    get: namedOids
      .optional()
      .describe('Values to GET, as `name: OID`, e.g. `uptime: 1.3.6.1.2.1.1.3.0`. Each becomes `values.<name>`.'),
    walk: namedOids
      .optional()
      .describe(
        'Subtrees to WALK, as `name: OID`. Each yields `values.<name>.count` and `values.<name>.<index>` per row (index = OID suffix below the base).',
      ),
    counters: z
      .array(valueName)
      .max(MAX_NAMES)
      .optional()
      .describe(
        'Names from `get` holding Counter32/Counter64 values; each also yields `values.<name>Rate`, the per-second increase since the previous run (none on the first run).',
      ),
  })
  .superRefine((spec, ctx) => {
    checkConnection(spec, ctx);
    const gets = Object.keys(spec.get ?? {});
    if (gets.length === 0 && Object.keys(spec.walk ?? {}).length === 0)
      ctx.addIssue({ code: 'custom', path: ['get'], message: 'give at least one OID under get or walk' });
    for (const [i, name] of (spec.counters ?? []).entries())
      if (!gets.includes(name))
        ctx.addIssue({ code: 'custom', path: ['counters', i], message: `"${name}" is not a name under get; counters are read with GET` });
    for (const name of Object.keys(spec.walk ?? {}))
      if (gets.includes(name))
        ctx.addIssue({ code: 'custom', path: ['walk', name], message: `"${name}" is used under get too; give the walk another name` });
  });

export type SnmpSpec = z.output<typeof schema>;

interface CounterSample {
  value: bigint;
  at: number;
}

/**
 * The per-second rate between two counter samples. A Counter32 that went down wrapped at 2^32
 * once (frequent on busy interfaces); a Counter64 that went down was reset (agent restart), so no
 * rate this time.
 */
export function counterRate(prev: CounterSample, cur: CounterSample, counter64: boolean): number | undefined {
  const seconds = (cur.at - prev.at) / 1000;
  if (seconds <= 0) return undefined;
  let delta = cur.value - prev.value;
  if (delta < 0n) {
    if (counter64) return undefined;
    delta += COUNTER32_WRAP;
  }
  return Math.round((Number(delta) / seconds) * 1000) / 1000;
}

/** `clock` times the counter samples; tests pass a FakeClock. */
export function createSnmpKind(clock: Clock = new SystemClock()): ProbeKind<SnmpSpec> {
  // Previous counter samples, per host, port, value name and OID. Checks that disappear leave one
  // small entry per counter behind; a restart starts over (first run has no rate).
  const samples = new Map<string, CounterSample>();

  async function run(spec: SnmpSpec, ctx: ProbeContext): Promise<CheckResult> {
    return runSnmp(spec, ctx, async ({ client, values, elapsed, result }) => {
      const fail = (message: string): CheckResult => result('fail', message);
      const getEntries = Object.entries(spec.get ?? {});
      const walkEntries = Object.entries(spec.walk ?? {});
      const [varbinds, walks] = await Promise.all([
        getEntries.length > 0 ? client.get(getEntries.map(([, oid]) => oid)) : Promise.resolve([]),
        Promise.all(walkEntries.map(([, oid]) => client.walk(oid))),
      ]);

      const counters = new Set(spec.counters ?? []);
      const now = clock.now();
      for (const [i, [name, oid]] of getEntries.entries()) {
        const vb = varbinds[i]!;
        values[name] = varbindValue(vb);
        if (!counters.has(name)) continue;
        const n = varbindBigInt(vb);
        if (!isCounterType(vb.type) || n === undefined)
          return fail(
            `${client.where}: ${name} (${normaliseOid(oid)}) is listed under counters but the agent returned ${objectTypeName(vb.type)}, not Counter32/Counter64`,
          );
        const key = [spec.host, spec.port, name, normaliseOid(oid)].join('|');
        const prev = samples.get(key);
        const cur = { value: n, at: now };
        samples.set(key, cur);
        const rate = prev ? counterRate(prev, cur, vb.type === ObjectType.Counter64) : undefined;
        if (rate !== undefined) values[`${name}Rate`] = rate;
      }
      for (const [i, [name, oid]] of walkEntries.entries()) {
        const rows = walks[i]!;
        const base = normaliseOid(oid);
        values[`${name}.count`] = rows.length;
        for (const vb of rows) values[`${name}.${oidSuffix(base, vb.oid)}`] = varbindValue(vb);
      }
      values.latencyMs = elapsed();
      const parts = [
        getEntries.length ? `${getEntries.length} value${getEntries.length === 1 ? '' : 's'}` : '',
        ...walkEntries.map(([name], i) => `${name}: ${walks[i]!.length} rows`),
      ].filter(Boolean);
      return { status: 'ok', message: `${client.where}: ${client.versionLabel} ${parts.join(', ')} in ${values.latencyMs} ms`, latencyMs: values.latencyMs, values };
    });
  }

  return {
    type: 'snmp',
    schema,
    defaultName: (spec) => `snmp:${spec.host}`,
    run,
  };
}

export const snmpKind = createSnmpKind();
