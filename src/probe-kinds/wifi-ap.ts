// wifi-ap: an access point over SNMP. Radios (ifType ieee80211) and ethernet uplinks that are
// enabled but not up fail the check; a reboot (sysUpTime going backwards) is flagged in the values
// without failing; the associated client count comes from a vendor preset or a given OID.
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { SystemClock, type Clock } from '../shared/clock.js';
import { objectTypeName, ObjectType, type Varbind } from './snmp/net-snmp.js';
import { IF_MIB, IF_STATUS, IF_TYPE, SNMPV2_MIB } from './snmp/oids.js';
import {
  checkConnection,
  connectionShape,
  normaliseOid,
  oidSchema,
  oidSuffix,
  runSnmp,
  SnmpUnexpectedValueError,
  varbindNumber,
  varbindValue,
} from './snmp/session.js';
import { VENDOR_PRESETS, VENDORS } from './snmp/vendors.js';
import type { ProbeContext, ProbeKind } from './types.js';

const TIMETICKS_WRAP = 2 ** 32;

const schema = z
  .strictObject({
    ...connectionShape,
    vendor: z
      .enum(VENDORS)
      .optional()
      .describe(
        `Where to read the associated client count: ${VENDORS.map((v) => `\`${v}\` (${VENDOR_PRESETS[v].object})`).join(', ')}. Without vendor or clients_oid, no client count.`,
      ),
    clients_oid: oidSchema
      .optional()
      .describe('OID to walk for the client count instead of the vendor preset; every integer below it is added up.'),
  })
  .superRefine(checkConnection);

export type WifiApSpec = z.output<typeof schema>;

interface UptimeSample {
  ticks: number;
  at: number;
}

interface Interface {
  index: string;
  name: string;
  type?: number;
  admin?: number;
  oper?: number;
}

/**
 * True when sysUpTime went backwards since the previous run. A TimeTicks counter also wraps after
 * 497 days; a drop from near the top by no more than the time that passed is that wrap, not a reboot.
 */
export function uptimeWentBack(prev: UptimeSample, cur: UptimeSample): boolean {
  if (cur.ticks >= prev.ticks) return false;
  const passedTicks = Math.max(0, (cur.at - prev.at) / 10);
  const slack = 60 * 100;
  return !(prev.ticks + passedTicks + slack >= TIMETICKS_WRAP && cur.ticks <= passedTicks + slack);
}

function expectInteger(vb: Varbind, what: string, where: string): number {
  const n = varbindNumber(vb);
  if (n === undefined)
    throw new SnmpUnexpectedValueError(`${where}: ${what} (${vb.oid}) is ${objectTypeName(vb.type)}, expected an integer`);
  return n;
}

/** `clock` times the uptime samples; tests pass a FakeClock. */
export function createWifiApKind(clock: Clock = new SystemClock()): ProbeKind<WifiApSpec> {
  // The previous sysUpTime per agent: a restart of incidentd forgets it (no reboot flagged then).
  const uptimes = new Map<string, UptimeSample>();

  async function run(spec: WifiApSpec, ctx: ProbeContext): Promise<CheckResult> {
    return runSnmp(spec, ctx, async ({ client, values, elapsed, result }) => {
      const where = client.where;
      const clientsOid = spec.clients_oid ?? (spec.vendor ? VENDOR_PRESETS[spec.vendor].clientsOid : undefined);
      const [[uptimeVb], descrs, types, admins, opers, clientRows] = await Promise.all([
        client.get([SNMPV2_MIB.sysUpTime]),
        client.walk(IF_MIB.ifDescr),
        client.walk(IF_MIB.ifType),
        client.walk(IF_MIB.ifAdminStatus),
        client.walk(IF_MIB.ifOperStatus),
        clientsOid ? client.walk(clientsOid) : Promise.resolve(undefined),
      ]);

      if (uptimeVb!.type !== ObjectType.TimeTicks)
        throw new SnmpUnexpectedValueError(`${where}: sysUpTime is ${objectTypeName(uptimeVb!.type)}, expected TimeTicks`);
      const ticks = expectInteger(uptimeVb!, 'sysUpTime', where);
      const key = `${spec.host}|${spec.port}`;
      const cur = { ticks, at: clock.now() };
      const prev = uptimes.get(key);
      uptimes.set(key, cur);
      const rebooted = prev !== undefined && uptimeWentBack(prev, cur);
      values.uptimeSeconds = Math.floor(ticks / 100);
      values.rebooted = rebooted;

      const interfaces = new Map<string, Interface>();
      const row = (base: string, vb: Varbind): Interface | undefined => {
        const index = oidSuffix(base, vb.oid);
        if (index === undefined) return undefined;
        const i = interfaces.get(index) ?? { index, name: `ifIndex ${index}` };
        interfaces.set(index, i);
        return i;
      };
      for (const vb of descrs) {
        const name = String(varbindValue(vb));
        if (name) row(IF_MIB.ifDescr, vb)!.name = name;
      }
      for (const vb of types) row(IF_MIB.ifType, vb)!.type = expectInteger(vb, 'ifType', where);
      for (const vb of admins) row(IF_MIB.ifAdminStatus, vb)!.admin = expectInteger(vb, 'ifAdminStatus', where);
      for (const vb of opers) row(IF_MIB.ifOperStatus, vb)!.oper = expectInteger(vb, 'ifOperStatus', where);

      // Only interfaces the admin enabled count (no ifAdminStatus = enabled). Down = not up;
      // dormant counts as up (a radio waiting for clients). Switched-off radios are not failures.
      const enabled = [...interfaces.values()].filter((i) => i.admin !== 2);
      const isDown = (i: Interface) => i.oper !== undefined && i.oper !== 1 && i.oper !== 5;
      const radios = enabled.filter((i) => i.type !== undefined && IF_TYPE.radio.has(i.type));
      const ethernet = enabled.filter((i) => i.type !== undefined && IF_TYPE.ethernet.has(i.type));
      const radiosDown = radios.filter(isDown);
      const ethernetDown = ethernet.filter(isDown);
      const radiosDisabled = [...interfaces.values()].filter((i) => i.admin === 2 && i.type !== undefined && IF_TYPE.radio.has(i.type)).length;
      values.interfaces = interfaces.size;
      values.radios = radios.length;
      values.radiosDown = radiosDown.length;
      values.radiosDisabled = radiosDisabled;
      values.ethernet = ethernet.length;
      values.ethernetDown = ethernetDown.length;
      values.downInterfaces = [...radiosDown, ...ethernetDown].map((i) => i.name).join(',');

      const notes: string[] = [];
      if (clientRows !== undefined) {
        if (clientRows.length === 0) {
          const what = spec.clients_oid ? 'clients_oid' : `${spec.vendor} preset ${VENDOR_PRESETS[spec.vendor!].object}`;
          notes.push(`no client count: nothing under ${normaliseOid(clientsOid!)} (${what}); check vendor or clients_oid`);
        } else {
          values.clients = clientRows.reduce((sum, vb) => sum + expectInteger(vb, 'client count', where), 0);
        }
      }
      if (radios.length === 0) notes.push('no ieee80211 (type 71) interface reported');
      values.latencyMs = elapsed();

      const describe = (i: Interface, kind: string) => `${i.name} (${kind}, ${IF_STATUS[i.oper!] ?? `status ${i.oper}`})`;
      const summary = [
        `uptime ${values.uptimeSeconds}s${rebooted ? ', rebooted since the last run' : ''}`,
        `${radios.length - radiosDown.length}/${radios.length} radios up${radiosDisabled ? ` (${radiosDisabled} switched off)` : ''}`,
        `${ethernet.length - ethernetDown.length}/${ethernet.length} ethernet up`,
        values.clients !== undefined ? `${values.clients} clients` : '',
        ...notes,
      ]
        .filter(Boolean)
        .join(', ');
      if (radiosDown.length + ethernetDown.length > 0) {
        const down = [...radiosDown.map((i) => describe(i, 'radio')), ...ethernetDown.map((i) => describe(i, 'ethernet'))];
        return result('fail', `${where}: down: ${down.join(', ')} (${summary})`);
      }
      return result('ok', `${where}: ${summary}`);
    });
  }

  return {
    type: 'wifi-ap',
    schema,
    defaultName: (spec) => `wifi-ap:${spec.host}`,
    run,
  };
}

export const wifiApKind = createWifiApKind();
