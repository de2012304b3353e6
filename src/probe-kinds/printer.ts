// printer: HOST-RESOURCES-MIB printer status and error bits plus Printer-MIB (RFC 3805) supplies
// and page count, over SNMP. Any detected error condition, or a device that says it is down or in
// warning, is a fail; the values let rules tell a jam from low toner.
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { objectTypeName, ObjectType, type Varbind } from './snmp/net-snmp.js';
import {
  HOST_RESOURCES_MIB,
  HR_DEVICE_STATUS,
  HR_PRINTER_STATUS,
  PRINTER_ERROR_BITS,
  PRINTER_MIB,
  SUPPLY_CLASS_RECEPTACLE,
  SUPPLY_COLUMN,
  SUPPLY_LEVEL,
  type PrinterCondition,
} from './snmp/oids.js';
import {
  checkConnection,
  connectionShape,
  oidSuffix,
  runSnmp,
  SnmpUnexpectedValueError,
  varbindNumber,
  varbindValue,
} from './snmp/session.js';
import type { ProbeContext, ProbeKind } from './types.js';

const schema = z
  .strictObject({
    ...connectionShape,
    device_index: z
      .number()
      .int()
      .min(1)
      .max(2_147_483_647)
      .optional()
      .describe('hrDeviceIndex of the printer on the agent. Default: the first printer in hrPrinterTable (usually 1).'),
  })
  .superRefine(checkConnection);

export type PrinterSpec = z.output<typeof schema>;

/** The conditions set in an hrPrinterDetectedErrorState octet string; bit 0 is the MSB of octet 0. */
export function decodePrinterErrors(octets: Buffer): PrinterCondition[] {
  return PRINTER_ERROR_BITS.filter((_, bit) => {
    const byte = octets[bit >> 3];
    return byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0;
  });
}

interface Supply {
  index: number;
  description?: string;
  level?: number;
  max?: number;
  class?: number;
  colorantIndex?: number;
}

/** What a supply's level says: a percentage when level and capacity are both known. */
export function supplyPercent(level: number | undefined, max: number | undefined): { percent?: number; state: string } {
  if (level === SUPPLY_LEVEL.unlimited) return { state: 'unlimited' };
  if (level === SUPPLY_LEVEL.someRemaining) return { state: 'someRemaining' };
  if (level === undefined || level < 0) return { state: 'unknown' };
  if (max === undefined || max <= 0) return { state: 'unknown' };
  return { percent: Math.min(100, Math.round((level / max) * 1000) / 10), state: 'measured' };
}

function expectNumber(vb: Varbind, what: string, where: string): number {
  const n = varbindNumber(vb);
  if (n === undefined)
    throw new SnmpUnexpectedValueError(
      `${where}: ${what} (${vb.oid}) is ${objectTypeName(vb.type)}, expected an integer; the agent does not follow the MIB`,
    );
  return n;
}

/** Rows of a walk under `<base>.<device>`, keyed by the rest of the index. */
function rowsForDevice(rows: Varbind[], base: string, device: number): Map<string, Varbind> {
  const out = new Map<string, Varbind>();
  for (const vb of rows) {
    const suffix = oidSuffix(`${base}.${device}`, vb.oid);
    if (suffix !== undefined) out.set(suffix, vb);
  }
  return out;
}

async function runPrinter(spec: PrinterSpec, ctx: ProbeContext): Promise<CheckResult> {
  return runSnmp(spec, ctx, async ({ client, values, elapsed, result }) => {
    const where = client.where;
    const printers = await client.walk(HOST_RESOURCES_MIB.hrPrinterStatus);
    const indexes = printers.map((vb) => Number(oidSuffix(HOST_RESOURCES_MIB.hrPrinterStatus, vb.oid))).filter(Number.isInteger);
    if (indexes.length === 0)
      return result('fail', `${where}: no printer in HOST-RESOURCES-MIB hrPrinterTable; is this a printer, and does its SNMP agent include the Host Resources MIB?`);
    const device = spec.device_index ?? indexes[0]!;
    const statusRow = printers.find((vb) => vb.oid === `${HOST_RESOURCES_MIB.hrPrinterStatus}.${device}`);
    if (!statusRow)
      return result('fail', `${where}: no printer with hrDeviceIndex ${device}; printers on this agent: ${indexes.join(', ')}`);

    const [[deviceStatusVb, errorStateVb], supplyRows, colorantRows, lifeRows] = await Promise.all([
      client.get([`${HOST_RESOURCES_MIB.hrDeviceStatus}.${device}`, `${HOST_RESOURCES_MIB.hrPrinterDetectedErrorState}.${device}`]),
      client.walk(PRINTER_MIB.prtMarkerSuppliesEntry),
      client.walk(PRINTER_MIB.prtMarkerColorantValue),
      client.walk(PRINTER_MIB.prtMarkerLifeCount),
    ]);

    const printerStatusCode = expectNumber(statusRow, 'hrPrinterStatus', where);
    const deviceStatusCode = expectNumber(deviceStatusVb!, 'hrDeviceStatus', where);
    values.printerStatus = HR_PRINTER_STATUS[printerStatusCode] ?? `status ${printerStatusCode}`;
    values.deviceStatus = HR_DEVICE_STATUS[deviceStatusCode] ?? `status ${deviceStatusCode}`;

    if (errorStateVb!.type !== ObjectType.OctetString || !Buffer.isBuffer(errorStateVb!.value))
      throw new SnmpUnexpectedValueError(
        `${where}: hrPrinterDetectedErrorState (${errorStateVb!.oid}) is ${objectTypeName(errorStateVb!.type)}, expected an OCTET STRING bit field; the agent does not follow HOST-RESOURCES-MIB`,
      );
    const conditions = decodePrinterErrors(errorStateVb!.value);
    values.conditions = conditions.join(',');
    for (const name of PRINTER_ERROR_BITS) values[name] = conditions.includes(name);

    // prtMarkerSuppliesEntry rows are <column>.<hrDeviceIndex>.<supplyIndex>.
    const supplies = new Map<number, Supply>();
    for (const vb of supplyRows) {
      const [column, dev, idx] = (oidSuffix(PRINTER_MIB.prtMarkerSuppliesEntry, vb.oid) ?? '').split('.').map(Number);
      if (dev !== device || idx === undefined || !Number.isInteger(idx)) continue;
      const s = supplies.get(idx) ?? { index: idx };
      supplies.set(idx, s);
      if (column === SUPPLY_COLUMN.description) s.description = String(varbindValue(vb));
      else if (column === SUPPLY_COLUMN.level) s.level = expectNumber(vb, 'prtMarkerSuppliesLevel', where);
      else if (column === SUPPLY_COLUMN.maxCapacity) s.max = expectNumber(vb, 'prtMarkerSuppliesMaxCapacity', where);
      else if (column === SUPPLY_COLUMN.class) s.class = expectNumber(vb, 'prtMarkerSuppliesClass', where);
      else if (column === SUPPLY_COLUMN.colorantIndex) s.colorantIndex = expectNumber(vb, 'prtMarkerSuppliesColorantIndex', where);
    }
    const colorants = rowsForDevice(colorantRows, PRINTER_MIB.prtMarkerColorantValue, device);

    let lowest: number | undefined;
    for (const s of [...supplies.values()].sort((a, b) => a.index - b.index)) {
      const key = `supply.${s.index}`;
      if (s.description !== undefined) values[`${key}.description`] = s.description;
      if (s.level !== undefined) values[`${key}.level`] = s.level;
      const { percent, state } = supplyPercent(s.level, s.max);
      values[`${key}.state`] = state;
      if (percent !== undefined) values[`${key}.percent`] = percent;
      const colorant = s.colorantIndex ? colorants.get(String(s.colorantIndex)) : undefined;
      if (colorant) values[`${key}.color`] = String(varbindValue(colorant));
      // A waste-toner box at 0 % is empty, which is good: only consumed supplies count.
      if (percent !== undefined && s.class !== SUPPLY_CLASS_RECEPTACLE) lowest = lowest === undefined ? percent : Math.min(lowest, percent);
    }
    values.supplies = supplies.size;
    if (lowest !== undefined) values.tonerPercent = lowest;

    // The first marker's lifetime count; printers with several markers report the same pages on each.
    const life = [...rowsForDevice(lifeRows, PRINTER_MIB.prtMarkerLifeCount, device).entries()].sort((a, b) => Number(a[0]) - Number(b[0]))[0];
    if (life) values.pageCount = expectNumber(life[1], 'prtMarkerLifeCount', where);
    values.latencyMs = elapsed();

    const deviceTrouble = values.deviceStatus === 'down' || values.deviceStatus === 'warning';
    const summary = [
      `printer ${values.printerStatus}`,
      `device ${values.deviceStatus}`,
      lowest !== undefined ? `lowest supply ${lowest}%` : '',
      values.pageCount !== undefined ? `${values.pageCount} pages` : '',
    ]
      .filter(Boolean)
      .join(', ');
    if (conditions.length > 0) return result('fail', `${where}: ${conditions.join(', ')} (${summary})`);
    if (deviceTrouble) return result('fail', `${where}: device status ${values.deviceStatus} with no error bit set (${summary})`);
    return result('ok', `${where}: ${summary}`);
  });
}

export const printerKind: ProbeKind<PrinterSpec> = {
  type: 'printer',
  schema,
  defaultName: (spec) => `printer:${spec.host}`,
  run: runPrinter,
};
