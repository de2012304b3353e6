// The SNMP trap receiver's configuration.

/** An SNMPv3 user the trap receiver accepts (authNoPriv or authPriv need the sender's keys). */
export interface SnmpTrapUser {
  name: string;
  level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
  authProtocol: string;
  authKey: string | null;
  privProtocol: string;
  privKey: string | null;
}
/** The SNMP trap receiver: where it listens, whom it believes, how traps name their target. */
export interface SnmpTrapConfig {
  enabled: boolean;
  /** Address the UDP socket binds; an IPv6 address selects udp6. */
  host: string;
  port: number;
  /** v1/v2c communities accepted; a trap with any other community is dropped. */
  communities: string[];
  /** v3 users accepted. */
  users: SnmpTrapUser[];
  target: {
    /** Kind of a target named only by the sender's address (default `device`). */
    kind: string;
    /** Label (of `labels`) naming the target's site, if any. */
    siteLabel: string | null;
  };
  /** Added to every trap signal. */
  labels: Record<string, string>;
}
