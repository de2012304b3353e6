// Where access points of each vendor report their associated clients. The wifi-ap kind walks the
// OID and adds every integer below it (per radio, per SSID or per AP, whichever the MIB counts).
//
// Each OID was checked against the vendor MIB as published in public MIB collections and
// monitoring tools (LibreNMS, Observium, Centreon, Datadog profiles) — not against real devices.

export interface VendorPreset {
  /** What the OID is, for messages and the schema description. */
  object: string;
  clientsOid: string;
}

export const VENDOR_PRESETS = {
  /** Autonomous (IOS) Aironet APs: CISCO-DOT11-ASSOCIATION-MIB cDot11ActiveWirelessClients, per radio interface. */
  cisco: { object: 'CISCO-DOT11-ASSOCIATION-MIB::cDot11ActiveWirelessClients', clientsOid: '1.3.6.1.4.1.9.9.273.1.1.2.1.1' },
  /** Aruba Instant (AI-AP-MIB) aiRadioClientNum per AP radio; poll the virtual controller for the cluster's total. */
  aruba: { object: 'AI-AP-MIB::aiRadioClientNum', clientsOid: '1.3.6.1.4.1.14823.2.3.3.1.2.2.1.21' },
  /** Ubiquiti UniFi APs: UBNT-UniFi-MIB unifiVapNumStations, per VAP (SSID × radio). */
  ubiquiti: { object: 'UBNT-UniFi-MIB::unifiVapNumStations', clientsOid: '1.3.6.1.4.1.41112.1.6.1.2.1.8' },
  /** MikroTik RouterOS: MIKROTIK-MIB mtxrWlApClientCount, per wireless interface. */
  mikrotik: { object: 'MIKROTIK-MIB::mtxrWlApClientCount', clientsOid: '1.3.6.1.4.1.14988.1.1.1.3.1.6' },
  /** Ruckus Unleashed: RUCKUS-UNLEASHED-SYSTEM-MIB ruckusUnleashedSystemStatsNumSta (authorised clients, whole network). */
  ruckus: { object: 'RUCKUS-UNLEASHED-SYSTEM-MIB::ruckusUnleashedSystemStatsNumSta', clientsOid: '1.3.6.1.4.1.25053.1.15.1.1.1.15.2' },
} as const satisfies Record<string, VendorPreset>;

export type Vendor = keyof typeof VENDOR_PRESETS;

export const VENDORS = Object.keys(VENDOR_PRESETS) as [Vendor, ...Vendor[]];
