// Simulated SNMP devices for `incidentd demo`: a Wi-Fi access point and a laser printer, each a
// real SNMP agent on loopback answering exactly the objects the wifi-ap and printer kinds read.
// Their state changes through plain methods (a radio goes down, the toner runs low, paper jams).
import { HOST_RESOURCES_MIB, IF_MIB, PRINTER_ERROR_BITS, PRINTER_MIB, SNMPV2_MIB, SUPPLY_COLUMN, type PrinterCondition } from '../probe-kinds/snmp/oids.js';
import { VENDOR_PRESETS, type Vendor } from '../probe-kinds/snmp/vendors.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { startAgent, type AgentValue } from './snmp-agent.js';

export interface SimulatedDevice {
  host: '127.0.0.1';
  port: number;
  community: string;
  stop(): Promise<void>;
}

export interface AccessPointOptions {
  clock: Clock;
  community?: string;
  /** Whose MIB reports the client count (default ubiquiti). */
  vendor?: Vendor;
  /** Associated clients per radio at start (default 12 and 7). */
  clients?: [number, number];
}

export interface SimulatedAccessPoint extends SimulatedDevice {
  vendor: Vendor;
  /** Sets ifOperStatus of radio 1 (wifi0, 2.4 GHz) or 2 (wifi1, 5 GHz); a down radio loses its clients. */
  setRadioUp(radio: 1 | 2, up: boolean): void;
  setClients(radio: 1 | 2, clients: number): void;
  /** sysUpTime starts again from zero, as after a power cycle. */
  reboot(): void;
}

const IF_UP = 1;
const IF_DOWN = 2;
const IF_TYPE_ETHERNET = 6;
const IF_TYPE_RADIO = 71;
/** sysUpTime is refreshed this often; the probe reads it in whole seconds. */
const UPTIME_REFRESH_MS = 1000;

function ifRow(index: number, name: string, type: number): Record<string, AgentValue> {
  return {
    [`${IF_MIB.ifDescr}.${index}`]: { type: 'OctetString', value: name },
    [`${IF_MIB.ifType}.${index}`]: { type: 'Integer', value: type },
    [`${IF_MIB.ifAdminStatus}.${index}`]: { type: 'Integer', value: IF_UP },
    [`${IF_MIB.ifOperStatus}.${index}`]: { type: 'Integer', value: IF_UP },
  };
}

/**
 * An access point with one ethernet uplink (ifIndex 1) and two radios (ifIndex 2 and 3), clients
 * counted per radio under the vendor preset's OID, and a sysUpTime that advances with the clock.
 */
export async function startAccessPoint(opts: AccessPointOptions): Promise<SimulatedAccessPoint> {
  const { clock } = opts;
  const community = opts.community ?? 'public';
  const vendor = opts.vendor ?? 'ubiquiti';
  const clientsOid = VENDOR_PRESETS[vendor].clientsOid;
  const [c1, c2] = opts.clients ?? [12, 7];
  const clients: Record<1 | 2, number> = { 1: c1, 2: c2 };
  let bootedAt = clock.now();
  const ticks = () => Math.floor((clock.now() - bootedAt) / 10);

  const agent = await startAgent({
    community,
    values: {
      [SNMPV2_MIB.sysUpTime]: { type: 'TimeTicks', value: ticks() },
      ...ifRow(1, 'eth0', IF_TYPE_ETHERNET),
      ...ifRow(2, 'wifi0', IF_TYPE_RADIO),
      ...ifRow(3, 'wifi1', IF_TYPE_RADIO),
      [`${clientsOid}.1`]: { type: 'Gauge32', value: c1 },
      [`${clientsOid}.2`]: { type: 'Gauge32', value: c2 },
    },
  });

  // The agent serves stored values only, so the uptime is rewritten on a timer.
  let timer: TimerHandle | undefined;
  const refresh = () => {
    agent.set(SNMPV2_MIB.sysUpTime, ticks());
    timer = clock.setTimeout(refresh, UPTIME_REFRESH_MS);
  };
  refresh();

  const radioUp: Record<1 | 2, boolean> = { 1: true, 2: true };
  return {
    host: agent.host,
    port: agent.port,
    community,
    vendor,
    setRadioUp(radio, up) {
      radioUp[radio] = up;
      agent.set(`${IF_MIB.ifOperStatus}.${radio + 1}`, up ? IF_UP : IF_DOWN);
      agent.set(`${clientsOid}.${radio}`, up ? clients[radio] : 0);
    },
    setClients(radio, n) {
      clients[radio] = n;
      if (radioUp[radio]) agent.set(`${clientsOid}.${radio}`, n);
    },
    reboot() {
      bootedAt = clock.now();
      agent.set(SNMPV2_MIB.sysUpTime, ticks());
    },
    async stop() {
      timer?.cancel();
      await agent.stop();
    },
  };
}

export interface PrinterOptions {
  community?: string;
  /** Black toner level at start, in percent (default 64). */
  tonerPercent?: number;
  /** Lifetime page count at start (default 48 210). */
  pageCount?: number;
}

export interface SimulatedPrinter extends SimulatedDevice {
  /** Black toner level; below 10 % the printer raises lowToner, at 0 % noToner, as real ones do. */
  setToner(percent: number): void;
  /** Paper jam: the jammed bit, device status down, printer status other. */
  setJammed(jammed: boolean): void;
  /** Adds printed pages to the lifetime count. */
  print(pages: number): void;
  /** Device status warning with no error bit (a service reminder, a tray nearly empty). */
  setWarning(warning: boolean): void;
  /** Unplugged: the agent answers nobody until plugged in again. */
  setSilent(silent: boolean): void;
}

const HR_RUNNING = 2;
const HR_WARNING = 3;
const HR_DOWN = 5;
const HR_PRINTER_OTHER = 1;
const HR_PRINTER_IDLE = 3;
/** Toner capacity in the MIB's units (tenths of a percent, so levels read as exact percentages). */
const TONER_MAX = 1000;
const LOW_TONER_PERCENT = 10;

/** hrPrinterDetectedErrorState octets with `conditions` set; bit 0 is the MSB of octet 0. */
export function encodePrinterErrors(conditions: readonly PrinterCondition[]): Buffer {
  const octets = Buffer.alloc(2);
  for (const c of conditions) {
    const bit = PRINTER_ERROR_BITS.indexOf(c);
    octets[bit >> 3]! |= 0x80 >> (bit & 7);
  }
  return octets;
}

/**
 * A mono laser printer (hrDeviceIndex 1): HOST-RESOURCES-MIB device and printer status with the
 * error-state bits, and Printer-MIB supplies (black toner, waste toner box) and page count.
 */
export async function startPrinter(opts: PrinterOptions = {}): Promise<SimulatedPrinter> {
  const community = opts.community ?? 'public';
  const supply = (column: number, index: number) => `${PRINTER_MIB.prtMarkerSuppliesEntry}.${column}.1.${index}`;
  const lifeCount = `${PRINTER_MIB.prtMarkerLifeCount}.1.1`;
  let toner = opts.tonerPercent ?? 64;
  let jammed = false;
  let warning = false;
  let pages = opts.pageCount ?? 48_210;

  const agent = await startAgent({
    community,
    values: {
      [`${HOST_RESOURCES_MIB.hrDeviceStatus}.1`]: { type: 'Integer', value: HR_RUNNING },
      [`${HOST_RESOURCES_MIB.hrPrinterStatus}.1`]: { type: 'Integer', value: HR_PRINTER_IDLE },
      [`${HOST_RESOURCES_MIB.hrPrinterDetectedErrorState}.1`]: { type: 'OctetString', value: encodePrinterErrors([]) },
      [supply(SUPPLY_COLUMN.colorantIndex, 1)]: { type: 'Integer', value: 1 },
      [supply(SUPPLY_COLUMN.class, 1)]: { type: 'Integer', value: 3 }, // supplyThatIsConsumed
      [supply(SUPPLY_COLUMN.description, 1)]: { type: 'OctetString', value: 'Black Toner Cartridge' },
      [supply(SUPPLY_COLUMN.maxCapacity, 1)]: { type: 'Integer', value: TONER_MAX },
      [supply(SUPPLY_COLUMN.level, 1)]: { type: 'Integer', value: 0 },
      [supply(SUPPLY_COLUMN.class, 2)]: { type: 'Integer', value: 4 }, // receptacleThatIsFilled
      [supply(SUPPLY_COLUMN.description, 2)]: { type: 'OctetString', value: 'Waste Toner Box' },
      [supply(SUPPLY_COLUMN.maxCapacity, 2)]: { type: 'Integer', value: 100 },
      [supply(SUPPLY_COLUMN.level, 2)]: { type: 'Integer', value: 20 },
      [`${PRINTER_MIB.prtMarkerColorantValue}.1.1`]: { type: 'OctetString', value: 'black' },
      [lifeCount]: { type: 'Counter32', value: pages },
    },
  });

  // Status objects follow from the simulated state, the way a printer's firmware derives them.
  const publish = () => {
    const conditions: PrinterCondition[] = [];
    if (toner <= 0) conditions.push('noToner');
    else if (toner < LOW_TONER_PERCENT) conditions.push('lowToner');
    if (jammed) conditions.push('jammed');
    agent.set(`${HOST_RESOURCES_MIB.hrPrinterDetectedErrorState}.1`, encodePrinterErrors(conditions));
    agent.set(
      `${HOST_RESOURCES_MIB.hrDeviceStatus}.1`,
      jammed || toner <= 0 ? HR_DOWN : conditions.length > 0 || warning ? HR_WARNING : HR_RUNNING,
    );
    agent.set(`${HOST_RESOURCES_MIB.hrPrinterStatus}.1`, jammed ? HR_PRINTER_OTHER : HR_PRINTER_IDLE);
    agent.set(supply(SUPPLY_COLUMN.level, 1), Math.round((toner / 100) * TONER_MAX));
  };
  publish();

  return {
    host: agent.host,
    port: agent.port,
    community,
    setToner(percent) {
      toner = Math.max(0, Math.min(100, percent));
      publish();
    },
    setJammed(j) {
      jammed = j;
      publish();
    },
    setWarning(w) {
      warning = w;
      publish();
    },
    setSilent: (silent) => agent.setSilent(silent),
    print(n) {
      pages += n;
      agent.set(lifeCount, pages);
    },
    stop: () => agent.stop(),
  };
}
