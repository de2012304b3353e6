// How a received notification becomes signals. Pure functions: the receiver decodes, these map.
//
//   linkDown / linkUp       one series per interface: check `linkDown`, fail on linkDown, ok on linkUp
//   coldStart / warmStart   an event: a fail and an ok at once, so an incident records the reboot and
//                           resolves (a reboot within the reopen window reopens it: occurrences count)
//   printerV2Alert          check `printerAlert`, one series per alert group (cover, tray, toner…):
//                           fail, or ok for the codes that announce a clearing (cover closed, ready)
//   anything else           check named by the trap OID (or its standard name), fail; a person resolves it
import type { Signal, TargetRef, Value } from '../../domain/signal.js';
import { ObjectType, type Varbind } from '../../probe-kinds/snmp/net-snmp.js';
import { IF_MIB, IF_STATUS, SNMPV2_MIB } from '../../probe-kinds/snmp/oids.js';
import { oidSuffix, varbindNumber, varbindValue } from '../../probe-kinds/snmp/session.js';
import { IncidentdError } from '../../shared/errors.js';
import type { ReceivedPdu } from './net-snmp.js';

export const SOURCE = 'snmp-trap';

/** SNMPv2-MIB snmpTrapOID.0: the second varbind of every v2c/v3 notification names the trap. */
export const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
/** SNMPv2-MIB snmpTrapEnterprise.0, added when a v1 trap is translated (RFC 3584 section 3.1). */
export const SNMP_TRAP_ENTERPRISE = '1.3.6.1.6.3.1.1.4.3.0';
/** SNMP-COMMUNITY-MIB snmpTrapAddress.0: the v1 agent-addr, translated. */
export const SNMP_TRAP_ADDRESS = '1.3.6.1.6.3.18.1.3.0';

/** The generic traps of SNMPv2-MIB; a v1 generic-trap n is `1.3.6.1.6.3.1.1.5.(n+1)`. */
export const STANDARD_TRAPS: Record<string, string> = {
  '1.3.6.1.6.3.1.1.5.1': 'coldStart',
  '1.3.6.1.6.3.1.1.5.2': 'warmStart',
  '1.3.6.1.6.3.1.1.5.3': 'linkDown',
  '1.3.6.1.6.3.1.1.5.4': 'linkUp',
  '1.3.6.1.6.3.1.1.5.5': 'authenticationFailure',
  '1.3.6.1.6.3.1.1.5.6': 'egpNeighborLoss',
};

/** Printer-MIB (RFC 3805) printerV2Alert and the prtAlertTable columns it carries. */
export const PRINTER_V2_ALERT = '1.3.6.1.2.1.43.18.2.0.1';
const PRT_ALERT_ENTRY = '1.3.6.1.2.1.43.18.1.1';
const PRT_ALERT_COLUMNS: Record<string, string> = {
  '2': 'alertSeverityLevel',
  '3': 'alertTrainingLevel',
  '4': 'alertGroup',
  '5': 'alertGroupIndex',
  '6': 'alertLocation',
  '7': 'alertCode',
  '8': 'alertDescription',
};

/** PrtAlertSeverityLevelTC. */
const PRT_ALERT_SEVERITY: Record<number, string> = { 1: 'other', 3: 'critical', 4: 'warning', 5: 'warningBinaryChangeEvent' };

/** PrtAlertGroupTC: which part of the printer the alert is about. */
const PRT_ALERT_GROUP: Record<number, string> = {
  1: 'other',
  3: 'hostResourcesMIBStorageTable',
  4: 'hostResourcesMIBDeviceTable',
  5: 'generalPrinter',
  6: 'cover',
  7: 'localization',
  8: 'input',
  9: 'output',
  10: 'marker',
  11: 'markerSupplies',
  12: 'markerColorant',
  13: 'mediaPath',
  14: 'channel',
  15: 'interpreter',
  16: 'consoleDisplayBuffer',
  17: 'consoleLights',
  18: 'alert',
  30: 'finDevice',
  31: 'finSupply',
  32: 'finSupplyMediaInput',
  33: 'finAttribute',
};

/** PrtAlertCodeTC, the codes printers send in practice. */
export const PRT_ALERT_CODE: Record<number, string> = {
  1: 'other',
  2: 'unknown',
  3: 'coverOpen',
  4: 'coverClosed',
  5: 'interlockOpen',
  6: 'interlockClosed',
  7: 'configurationChange',
  8: 'jam',
  9: 'subunitMissing',
  10: 'subunitLifeAlmostOver',
  11: 'subunitLifeOver',
  12: 'subunitAlmostEmpty',
  13: 'subunitEmpty',
  14: 'subunitAlmostFull',
  15: 'subunitFull',
  16: 'subunitNearLimit',
  17: 'subunitAtLimit',
  18: 'subunitOpened',
  19: 'subunitClosed',
  20: 'subunitTurnedOn',
  21: 'subunitTurnedOff',
  22: 'subunitOffline',
  23: 'subunitPowerSaver',
  24: 'subunitWarmingUp',
  25: 'subunitAdded',
  26: 'subunitRemoved',
  27: 'subunitResourceAdded',
  28: 'subunitResourceRemoved',
  29: 'subunitRecoverableFailure',
  30: 'subunitUnrecoverableFailure',
  31: 'subunitUnrecoverableStorageError',
  32: 'subunitMotorFailure',
  33: 'subunitMemoryExhausted',
  34: 'subunitUnderTemperature',
  35: 'subunitOverTemperature',
  36: 'subunitTimingFailure',
  37: 'subunitThermistorFailure',
  501: 'doorOpen',
  502: 'doorClosed',
  503: 'powerUp',
  504: 'powerDown',
  505: 'printerNMSReset',
  506: 'printerManualReset',
  507: 'printerReadyToPrint',
  801: 'inputMediaTrayMissing',
  802: 'inputMediaSizeChange',
  803: 'inputMediaWeightChange',
  804: 'inputMediaTypeChange',
  805: 'inputMediaColorChange',
  806: 'inputMediaFormPartsChange',
  807: 'inputMediaSupplyLow',
  808: 'inputMediaSupplyEmpty',
  901: 'outputMediaTrayMissing',
  902: 'outputMediaTrayAlmostFull',
  903: 'outputMediaTrayFull',
  1001: 'markerFuserUnderTemperature',
  1002: 'markerFuserOverTemperature',
  1101: 'markerTonerEmpty',
  1102: 'markerInkEmpty',
  1103: 'markerPrintRibbonEmpty',
  1104: 'markerTonerAlmostEmpty',
  1105: 'markerInkAlmostEmpty',
  1106: 'markerPrintRibbonAlmostEmpty',
  1301: 'mediaPathMediaTrayMissing',
  1302: 'mediaPathMediaTrayAlmostFull',
  1303: 'mediaPathMediaTrayFull',
};

/** Alert codes that announce a condition went away: they recover their group's series. */
const PRT_CLEARING_CODES = new Set([4, 6, 19, 20, 502, 507]);

/** A notification that is not a well-formed trap (e.g. a v2c trap without snmpTrapOID.0). */
export class MalformedTrapError extends IncidentdError {}

/** A notification decoded into the v2 shape, whatever version it came in. */
export interface Trap {
  version: '1' | '2c' | '3';
  /** The notification's OID, v1 traps translated per RFC 3584. */
  oid: string;
  /** sysUpTime of the sender in hundredths of a second, if it said. */
  upTime: number | null;
  /** The varbinds after sysUpTime.0 and snmpTrapOID.0. */
  varbinds: Varbind[];
  /** IP address the datagram came from (IPv4-mapped IPv6 unwrapped). */
  sender: string;
  /** The v1 agent-addr field; null for v2c/v3. */
  agentAddr: string | null;
  inform: boolean;
}

/** `::ffff:10.0.0.5` → `10.0.0.5`, so one device has one address whichever socket family took it. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/**
 * RFC 3584 section 3.1: generic-trap 0-5 → `snmpTraps.(n+1)`; enterpriseSpecific (6) →
 * `enterprise.0.specific`. An enterprise that already ends in `.0` (senders that split a v2 OID
 * at its last arc) is not given a second one.
 */
export function v1TrapOid(enterprise: string, generic: number, specific: number): string {
  if (generic >= 0 && generic <= 5) return `1.3.6.1.6.3.1.1.5.${generic + 1}`;
  return enterprise.endsWith('.0') ? `${enterprise}.${specific}` : `${enterprise}.0.${specific}`;
}

const TRAP_V1 = 164;
const INFORM = 166;

/** The receiver's PDU in the v2 shape; throws MalformedTrapError when it names no trap. */
export function decodeTrap(pdu: ReceivedPdu, senderAddress: string): Trap {
  const sender = plainAddress(senderAddress);
  if (pdu.type === TRAP_V1) {
    if (pdu.enterprise === undefined || pdu.generic === undefined || pdu.specific === undefined)
      throw new MalformedTrapError('v1 trap without enterprise, generic-trap or specific-trap');
    const agentAddr = pdu.agentAddr ?? null;
    const extra: Varbind[] = [{ oid: SNMP_TRAP_ENTERPRISE, type: ObjectType.OID, value: pdu.enterprise }];
    if (agentAddr !== null) extra.push({ oid: SNMP_TRAP_ADDRESS, type: ObjectType.IpAddress, value: agentAddr });
    return {
      version: '1',
      oid: v1TrapOid(pdu.enterprise, pdu.generic, pdu.specific),
      upTime: pdu.upTime ?? null,
      varbinds: [...pdu.varbinds, ...extra],
      sender,
      agentAddr,
      inform: false,
    };
  }
  // RFC 3416 section 4.2.6: sysUpTime.0 first, snmpTrapOID.0 second. Accept them anywhere; some
  // agents put them out of order.
  const trapOid = pdu.varbinds.find((vb) => vb.oid === SNMP_TRAP_OID);
  if (!trapOid || typeof trapOid.value !== 'string' || trapOid.value === '')
    throw new MalformedTrapError('notification without snmpTrapOID.0 (1.3.6.1.6.3.1.1.4.1.0); it names no trap');
  const upTime = pdu.varbinds.find((vb) => vb.oid === SNMPV2_MIB.sysUpTime);
  return {
    version: pdu.user !== undefined ? '3' : '2c',
    oid: trapOid.value,
    upTime: upTime ? (varbindNumber(upTime) ?? null) : null,
    varbinds: pdu.varbinds.filter((vb) => vb !== trapOid && vb !== upTime),
    sender,
    agentAddr: null,
    inform: pdu.type === INFORM,
  };
}

/** What the mapping needs besides the trap. */
export interface MappingContext {
  target: TargetRef;
  labels: Record<string, string>;
  now: number;
}

/** The target of a sender no probe watches: its address, of the configured kind. */
export function addressTarget(address: string, kind: string, site: string): TargetRef {
  return { id: address, kind, name: address, site, labels: {}, dependsOn: [] };
}

/** The signals one trap becomes (two for a reboot event, else one). */
export function trapSignals(trap: Trap, ctx: MappingContext): Signal[] {
  const name = STANDARD_TRAPS[trap.oid] ?? trap.oid;
  const values: Record<string, Value> = {};
  for (const vb of trap.varbinds) values[`vb.${vb.oid}`] = varbindValue(vb);
  if (trap.upTime !== null) values.sysUpTime = trap.upTime;
  if (trap.agentAddr !== null) values.agentAddr = trap.agentAddr;
  const labels: Record<string, string> = { ...ctx.labels, alertname: name, trap: name, trap_oid: trap.oid, snmp_version: trap.version };
  const base = { source: SOURCE, target: ctx.target, labels, annotations: {}, at: ctx.now };
  const who = ctx.target.name;

  switch (name) {
    case 'linkDown':
    case 'linkUp': {
      const link = linkValues(trap.varbinds);
      Object.assign(values, link.values);
      if (link.ifIndex !== null) labels.ifIndex = String(link.ifIndex);
      const iface = link.ifIndex === null ? 'an interface' : `interface ${link.ifIndex}${link.descr ? ` (${link.descr})` : ''}`;
      const signal: Signal = {
        ...base,
        // Both traps share the check name, so linkUp recovers what linkDown opened.
        check: { name: 'linkDown', type: SOURCE },
        status: name === 'linkDown' ? 'fail' : 'ok',
        message: `${iface} of ${who} is ${name === 'linkDown' ? 'down' : 'up'}`,
        values,
      };
      if (link.ifIndex !== null) signal.dedupKey = `ifIndex:${link.ifIndex}`;
      return [signal];
    }
    case 'coldStart':
    case 'warmStart': {
      values.event = true;
      const what = name === 'coldStart' ? 'restarted (cold start: power cycle or crash)' : 'restarted (warm start)';
      const check = { name, type: SOURCE };
      // A reboot is an event, not a state: the ok right after lets the incident record it and resolve.
      return [
        { ...base, check, status: 'fail', message: `${who} ${what}`, values },
        { ...base, labels: { ...labels }, check, status: 'ok', message: `${who} ${what}; a reboot is an event and resolves at once`, values: { ...values } },
      ];
    }
    default:
      break;
  }

  if (trap.oid === PRINTER_V2_ALERT) {
    const alert = printerAlertValues(trap.varbinds);
    Object.assign(values, alert.values);
    const code = typeof alert.values.alertCode === 'number' ? alert.values.alertCode : null;
    const cleared = code !== null && PRT_CLEARING_CODES.has(code);
    const codeName = typeof alert.values.alertCodeName === 'string' ? alert.values.alertCodeName : 'alert';
    const description = typeof alert.values.alertDescription === 'string' && alert.values.alertDescription !== '' ? alert.values.alertDescription : codeName;
    const severity = typeof alert.values.alertSeverity === 'string' ? ` (${alert.values.alertSeverity})` : '';
    const signal: Signal = {
      ...base,
      labels: { ...labels, alertname: 'printerAlert', trap: 'printerV2Alert' },
      check: { name: 'printerAlert', type: SOURCE },
      status: cleared ? 'ok' : 'fail',
      message: `${who}: ${description}${severity}`,
      values,
    };
    if (alert.group !== null) signal.dedupKey = `alertGroup:${alert.group}.${alert.groupIndex ?? 0}`;
    return [signal];
  }

  return [
    {
      ...base,
      check: { name, type: SOURCE },
      status: 'fail',
      message: `${who} sent trap ${name}${trap.varbinds.length > 0 ? ` (${trap.varbinds.length} varbind${trap.varbinds.length === 1 ? '' : 's'})` : ''}`,
      values,
    },
  ];
}

function linkValues(varbinds: Varbind[]): { ifIndex: number | null; descr: string | null; values: Record<string, Value> } {
  const values: Record<string, Value> = {};
  let ifIndex: number | null = null;
  let descr: string | null = null;
  for (const vb of varbinds) {
    // RFC 2863: linkDown/linkUp carry ifIndex, ifAdminStatus, ifOperStatus, each indexed by ifIndex.
    const column = (
      [
        ['ifIndex', '1.3.6.1.2.1.2.2.1.1'],
        ['ifDescr', IF_MIB.ifDescr],
        ['ifAdminStatus', IF_MIB.ifAdminStatus],
        ['ifOperStatus', IF_MIB.ifOperStatus],
      ] as const
    ).find(([, base]) => oidSuffix(base, vb.oid) !== undefined);
    if (!column) continue;
    const [field, base] = column;
    const index = Number(oidSuffix(base, vb.oid));
    if (ifIndex === null && Number.isInteger(index)) ifIndex = index;
    const value = varbindValue(vb);
    if (field === 'ifDescr') descr = String(value);
    if ((field === 'ifAdminStatus' || field === 'ifOperStatus') && typeof value === 'number') {
      values[field] = IF_STATUS[value] ?? String(value);
    } else {
      values[field] = value;
    }
  }
  if (ifIndex !== null) values.ifIndex = ifIndex;
  return { ifIndex, descr, values };
}

function printerAlertValues(varbinds: Varbind[]): { group: number | null; groupIndex: number | null; values: Record<string, Value> } {
  const values: Record<string, Value> = {};
  for (const vb of varbinds) {
    const suffix = oidSuffix(PRT_ALERT_ENTRY, vb.oid);
    if (suffix === undefined) continue;
    const field = PRT_ALERT_COLUMNS[suffix.split('.')[0]!];
    if (field !== undefined) values[field] = varbindValue(vb);
  }
  const num = (v: Value | undefined) => (typeof v === 'number' ? v : null);
  const severity = num(values.alertSeverityLevel);
  if (severity !== null) values.alertSeverity = PRT_ALERT_SEVERITY[severity] ?? String(severity);
  const code = num(values.alertCode);
  if (code !== null) values.alertCodeName = PRT_ALERT_CODE[code] ?? String(code);
  const group = num(values.alertGroup);
  if (group !== null) values.alertGroupName = PRT_ALERT_GROUP[group] ?? String(group);
  return { group, groupIndex: num(values.alertGroupIndex), values };
}
