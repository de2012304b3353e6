// Standard MIB objects the printer and wifi-ap kinds read. Column OIDs: append the row index.

/** SNMPv2-MIB (RFC 3418). */
export const SNMPV2_MIB = {
  sysUpTime: '1.3.6.1.2.1.1.3.0',
} as const;

/** IF-MIB ifTable (RFC 2863) columns, indexed by ifIndex. */
export const IF_MIB = {
  ifDescr: '1.3.6.1.2.1.2.2.1.2',
  ifType: '1.3.6.1.2.1.2.2.1.3',
  ifAdminStatus: '1.3.6.1.2.1.2.2.1.7',
  ifOperStatus: '1.3.6.1.2.1.2.2.1.8',
} as const;

/** IANAifType values the wifi-ap kind sorts interfaces by. */
export const IF_TYPE = {
  /** ieee80211: a radio. */
  radio: new Set([71]),
  /** ethernetCsmacd, and the obsolete iso88023Csmacd, fastEther, fastEtherFX, gigabitEthernet some agents still report. */
  ethernet: new Set([6, 7, 62, 69, 117]),
};

/** IF-MIB ifOperStatus / ifAdminStatus. */
export const IF_STATUS: Record<number, string> = {
  1: 'up',
  2: 'down',
  3: 'testing',
  4: 'unknown',
  5: 'dormant',
  6: 'notPresent',
  7: 'lowerLayerDown',
};

/** HOST-RESOURCES-MIB (RFC 2790) columns, indexed by hrDeviceIndex. */
export const HOST_RESOURCES_MIB = {
  hrDeviceStatus: '1.3.6.1.2.1.25.3.2.1.5',
  hrPrinterStatus: '1.3.6.1.2.1.25.3.5.1.1',
  hrPrinterDetectedErrorState: '1.3.6.1.2.1.25.3.5.1.2',
} as const;

export const HR_DEVICE_STATUS: Record<number, string> = {
  1: 'unknown',
  2: 'running',
  3: 'warning',
  4: 'testing',
  5: 'down',
};

export const HR_PRINTER_STATUS: Record<number, string> = {
  1: 'other',
  2: 'unknown',
  3: 'idle',
  4: 'printing',
  5: 'warmup',
};

/**
 * hrPrinterDetectedErrorState bits in order (RFC 3805 section 2.2.13.4, which extends the
 * HOST-RESOURCES-MIB list): bit 0 is the most significant bit of the first octet.
 */
export const PRINTER_ERROR_BITS = [
  'lowPaper',
  'noPaper',
  'lowToner',
  'noToner',
  'doorOpen',
  'jammed',
  'offline',
  'serviceRequested',
  'inputTrayMissing',
  'outputTrayMissing',
  'markerSupplyMissing',
  'outputNearFull',
  'outputFull',
  'inputTrayEmpty',
  'overduePreventMaint',
] as const;

export type PrinterCondition = (typeof PRINTER_ERROR_BITS)[number];

/** Printer-MIB v2 (RFC 3805). Rows are indexed by hrDeviceIndex, then the table's own index. */
export const PRINTER_MIB = {
  /** prtMarkerLifeCount: the marker's lifetime count (impressions or sheets, per prtMarkerCounterUnit). */
  prtMarkerLifeCount: '1.3.6.1.2.1.43.10.2.1.4',
  /** prtMarkerSuppliesEntry; the columns below. */
  prtMarkerSuppliesEntry: '1.3.6.1.2.1.43.11.1.1',
  /** prtMarkerColorantValue: the colorant's name, e.g. `cyan`. */
  prtMarkerColorantValue: '1.3.6.1.2.1.43.12.1.1.4',
} as const;

/** Column numbers in prtMarkerSuppliesEntry. */
export const SUPPLY_COLUMN = {
  colorantIndex: 3,
  class: 4,
  description: 6,
  maxCapacity: 8,
  level: 9,
} as const;

/** prtMarkerSuppliesClass receptacleThatIsFilled (e.g. waste toner): its level is how full, not how much is left. */
export const SUPPLY_CLASS_RECEPTACLE = 4;

/** Special prtMarkerSuppliesLevel / MaxCapacity values (RFC 3805). */
export const SUPPLY_LEVEL = {
  /** other: no restriction (e.g. unlimited). */
  unlimited: -1,
  unknown: -2,
  /** The printer only knows that some is left. */
  someRemaining: -3,
} as const;
