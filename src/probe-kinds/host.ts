// host: a server's disks, memory and processor load from HOST-RESOURCES-MIB (RFC 2790) over SNMP.
// Every reading is a value for rules; the optional max_* thresholds make the check itself fail,
// naming what is over and by how much.
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { objectTypeName, ObjectType, type Varbind } from './snmp/net-snmp.js';
import {
  checkConnection,
  connectionShape,
  normaliseOid,
  oidSuffix,
  runSnmp,
  SnmpUnexpectedValueError,
  varbindNumber,
  varbindValue,
} from './snmp/session.js';
import type { ProbeContext, ProbeKind } from './types.js';

/** HOST-RESOURCES-MIB objects this kind reads (oids.ts has only the printer ones). */
export const HOST_MIB = {
  /** hrSystem group: the scalars below. */
  hrSystem: '1.3.6.1.2.1.25.1',
  hrSystemUptime: '1.3.6.1.2.1.25.1.1.0',
  hrSystemProcesses: '1.3.6.1.2.1.25.1.6.0',
  /** hrStorageEntry; rows are <column>.<hrStorageIndex>. */
  hrStorageEntry: '1.3.6.1.2.1.25.2.3.1',
  /** hrProcessorLoad, indexed by hrDeviceIndex: % busy over the last minute. */
  hrProcessorLoad: '1.3.6.1.2.1.25.3.3.1.2',
} as const;

/** Column numbers in hrStorageEntry. */
const STORAGE_COLUMN = { type: 2, descr: 3, allocationUnits: 4, size: 5, used: 6 } as const;

/** hrStorageTypes (1.3.6.1.2.1.25.2.1.x) the kind uses. */
export const HR_STORAGE_TYPE = {
  other: '1.3.6.1.2.1.25.2.1.1',
  ram: '1.3.6.1.2.1.25.2.1.2',
  fixedDisk: '1.3.6.1.2.1.25.2.1.4',
} as const;

/**
 * net-snmp's snmpd counts buffers and page cache in "Physical memory" used and reports them as
 * these two hrStorageOther rows; they are subtracted, as LibreNMS does, or every Linux server
 * would look nearly out of memory.
 */
const LINUX_PHYSICAL_MEMORY = 'Physical memory';
const LINUX_RECLAIMABLE = ['Memory buffers', 'Cached memory'];

const percentSchema = (what: string) =>
  z.number().min(0).max(100).optional().describe(`Fail when ${what} is above this percentage, 0-100. Default: no limit.`);

const storagePattern = z
  .string()
  .min(1)
  .refine((p) => p !== '!', { error: '"!" alone excludes nothing; write "!/boot" or "!/boot*"' })
  .describe('hrStorageDescr of a disk, exactly or as a glob (`*` any text, `?` one character); a leading `!` excludes.');

const schema = z
  .strictObject({
    ...connectionShape,
    max_disk_used_percent: percentSchema('any included fixed disk'),
    max_memory_used_percent: percentSchema('RAM in use (Linux buffers and cache not counted)'),
    max_cpu_load_percent: percentSchema('the average hrProcessorLoad of all processors'),
    storages: z
      .array(storagePattern)
      .min(1)
      .optional()
      .describe(
        'Which fixed disks count, by hrStorageDescr: e.g. ["/", "/srv*"] only those, ["!/boot*"] all but /boot and /boot/efi. Default: all fixed disks.',
      ),
  })
  .superRefine(checkConnection);

export type HostSpec = z.output<typeof schema>;

/** `*` any text (`/` and `\` included: descriptions are free text, not paths), `?` one character. */
function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

/**
 * A filter from `storages`: a disk counts when it matches an include (or there is none) and no
 * exclude. Exported for the tests.
 */
export function storageFilter(patterns: readonly string[] | undefined): (descr: string) => boolean {
  const includes = (patterns ?? []).filter((p) => !p.startsWith('!')).map(globToRegExp);
  const excludes = (patterns ?? []).filter((p) => p.startsWith('!')).map((p) => globToRegExp(p.slice(1)));
  return (descr) => (includes.length === 0 || includes.some((r) => r.test(descr))) && !excludes.some((r) => r.test(descr));
}

interface Storage {
  index: string;
  type?: string;
  descr?: string;
  units?: number;
  size?: number;
  used?: number;
}

function expectInteger(vb: Varbind, what: string, where: string): number {
  const n = varbindNumber(vb);
  if (n === undefined)
    throw new SnmpUnexpectedValueError(
      `${where}: ${what} (${vb.oid}) is ${objectTypeName(vb.type)}, expected an integer; the agent does not follow HOST-RESOURCES-MIB`,
    );
  return n;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Used share in percent, one decimal; undefined when the agent gives no usable size. */
function usedPercent(used: number | undefined, size: number | undefined): number | undefined {
  if (used === undefined || size === undefined || size <= 0 || used < 0) return undefined;
  return Math.min(100, round1((used / size) * 100));
}

/** hrStorageEntry walk → rows by hrStorageIndex, in index order. */
function storageRows(rows: Varbind[], where: string): Storage[] {
  const storages = new Map<string, Storage>();
  for (const vb of rows) {
    const suffix = oidSuffix(HOST_MIB.hrStorageEntry, vb.oid);
    const dot = suffix?.indexOf('.') ?? -1;
    if (suffix === undefined || dot < 0) continue;
    const column = Number(suffix.slice(0, dot));
    const index = suffix.slice(dot + 1);
    const s = storages.get(index) ?? { index };
    storages.set(index, s);
    if (column === STORAGE_COLUMN.type) {
      if (vb.type !== ObjectType.OID)
        throw new SnmpUnexpectedValueError(
          `${where}: hrStorageType (${vb.oid}) is ${objectTypeName(vb.type)}, expected an OBJECT IDENTIFIER; the agent does not follow HOST-RESOURCES-MIB`,
        );
      s.type = normaliseOid(String(vb.value));
    } else if (column === STORAGE_COLUMN.descr) s.descr = String(varbindValue(vb));
    else if (column === STORAGE_COLUMN.allocationUnits) s.units = expectInteger(vb, 'hrStorageAllocationUnits', where);
    else if (column === STORAGE_COLUMN.size) s.size = expectInteger(vb, 'hrStorageSize', where);
    else if (column === STORAGE_COLUMN.used) s.used = expectInteger(vb, 'hrStorageUsed', where);
  }
  return [...storages.values()].sort((a, b) => Number(a.index) - Number(b.index));
}

/** "93.2% (max 90%, 3.2 over)". */
function overBy(percent: number, max: number): string {
  return `${percent}% (max ${max}%, ${round1(percent - max)} over)`;
}

async function runHost(spec: HostSpec, ctx: ProbeContext): Promise<CheckResult> {
  return runSnmp(spec, ctx, async ({ client, values, elapsed, result }) => {
    const where = client.where;
    const [systemRows, storageWalk, loadRows] = await Promise.all([
      client.walk(HOST_MIB.hrSystem),
      client.walk(HOST_MIB.hrStorageEntry),
      client.walk(HOST_MIB.hrProcessorLoad),
    ]);
    // Missing data the check needs: each makes it fail.
    const missing: string[] = [];
    // Over a threshold: each makes it fail.
    const over: string[] = [];
    const summary: string[] = [];

    const uptime = systemRows.find((vb) => vb.oid === HOST_MIB.hrSystemUptime);
    if (uptime) values.uptimeSeconds = Math.floor(expectInteger(uptime, 'hrSystemUptime', where) / 100);
    const processes = systemRows.find((vb) => vb.oid === HOST_MIB.hrSystemProcesses);
    if (processes) values.processes = expectInteger(processes, 'hrSystemProcesses', where);

    // Disks and memory.
    const storages = storageRows(storageWalk, where);
    if (storages.length === 0) {
      missing.push(
        `no hrStorageTable (${HOST_MIB.hrStorageEntry}) on the agent; does its SNMP agent include HOST-RESOURCES-MIB storage (net-snmp snmpd: the hr_storage module)?`,
      );
    } else {
      const included = storageFilter(spec.storages);
      const disks = storages.filter((s) => s.type === HR_STORAGE_TYPE.fixedDisk);
      let worst: { name: string; percent: number } | undefined;
      const seen = new Set<string>();
      for (const d of disks) {
        const name = d.descr || `hrStorageIndex ${d.index}`;
        if (!included(name)) continue;
        const percent = usedPercent(d.used, d.size);
        // Two rows with one description (bind mounts, say) keep apart by their index.
        const key = `storage.${seen.has(name) ? `${name}#${d.index}` : name}`;
        seen.add(name);
        if (percent === undefined) {
          values[`${key}.state`] = 'unknown';
          continue;
        }
        values[`${key}.usedPercent`] = percent;
        if (d.units !== undefined && d.units > 0) {
          values[`${key}.sizeBytes`] = d.size! * d.units;
          values[`${key}.usedBytes`] = d.used! * d.units;
        }
        if (!worst || percent > worst.percent) worst = { name, percent };
        if (spec.max_disk_used_percent !== undefined && percent > spec.max_disk_used_percent)
          over.push(`disk ${name} ${overBy(percent, spec.max_disk_used_percent)}`);
      }
      values.disks = seen.size;
      if (worst) {
        values.diskUsedPercent = worst.percent;
        values.diskName = worst.name;
        summary.push(`disk ${worst.name} ${worst.percent}% (fullest of ${seen.size})`);
      } else if (spec.storages !== undefined || spec.max_disk_used_percent !== undefined) {
        const names = disks.map((d) => d.descr || `hrStorageIndex ${d.index}`);
        missing.push(
          seen.size > 0
            ? `no size reported for the disks ${[...seen].join(', ')}`
            : names.length > 0
              ? `no fixed disk matches storages ${JSON.stringify(spec.storages)}; fixed disks on the agent: ${names.join(', ')}`
              : 'no fixed disk (hrStorageFixedDisk) in hrStorageTable',
        );
      }

      const ram = storages.filter((s) => s.type === HR_STORAGE_TYPE.ram && s.size !== undefined && s.size > 0 && s.used !== undefined);
      if (ram.length > 0) {
        const bytes = (s: Storage, n: number) => n * (s.units && s.units > 0 ? s.units : 1);
        const size = ram.reduce((sum, s) => sum + bytes(s, s.size!), 0);
        let used = ram.reduce((sum, s) => sum + bytes(s, s.used!), 0);
        if (ram.length === 1 && ram[0]!.descr === LINUX_PHYSICAL_MEMORY) {
          const reclaimable = storages.filter(
            (s) => s.type === HR_STORAGE_TYPE.other && LINUX_RECLAIMABLE.includes(s.descr ?? '') && s.used !== undefined && s.used > 0,
          );
          used = Math.max(0, used - reclaimable.reduce((sum, s) => sum + bytes(s, s.used!), 0));
        }
        // Without allocation units the percentage still holds; the byte counts would not.
        if (ram.every((s) => s.units && s.units > 0)) {
          values.memorySizeBytes = size;
          values.memoryUsedBytes = used;
        }
        const percent = usedPercent(used, size)!;
        values.memoryUsedPercent = percent;
        summary.push(`memory ${percent}%`);
        if (spec.max_memory_used_percent !== undefined && percent > spec.max_memory_used_percent)
          over.push(`memory ${overBy(percent, spec.max_memory_used_percent)}`);
      } else if (spec.max_memory_used_percent !== undefined) {
        missing.push('no RAM (hrStorageRam) with a size in hrStorageTable');
      }
    }

    // Processors.
    if (loadRows.length > 0) {
      const loads = loadRows.map((vb) => expectInteger(vb, 'hrProcessorLoad', where));
      const percent = round1(loads.reduce((a, b) => a + b, 0) / loads.length);
      values.cpuLoadPercent = percent;
      values.cpus = loads.length;
      summary.push(`cpu ${percent}% (${loads.length} ${loads.length === 1 ? 'processor' : 'processors'})`);
      if (spec.max_cpu_load_percent !== undefined && percent > spec.max_cpu_load_percent)
        over.push(`cpu ${overBy(percent, spec.max_cpu_load_percent)}`);
    } else if (spec.max_cpu_load_percent !== undefined) {
      missing.push(`no hrProcessorLoad (${HOST_MIB.hrProcessorLoad}) on the agent, needed for max_cpu_load_percent`);
    }

    if (values.processes !== undefined) summary.push(`${values.processes} processes`);
    if (values.uptimeSeconds !== undefined) summary.push(`uptime ${values.uptimeSeconds}s`);
    values.latencyMs = elapsed();

    const text = summary.join(', ');
    if (missing.length > 0) return result('fail', `${where}: ${missing.join('; ')}${text ? ` (${text})` : ''}`);
    if (over.length > 0) return result('fail', `${where}: over the limit: ${over.join(', ')} (${text})`);
    return result('ok', `${where}: ${text}`);
  });
}

export const hostKind: ProbeKind<HostSpec> = {
  type: 'host',
  schema,
  defaultName: (spec) => `host:${spec.host}`,
  run: runHost,
};
