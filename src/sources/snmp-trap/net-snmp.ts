// The notification-receiver part of `net-snmp`, typed. The package ships no type declarations; the
// session and agent parts are typed in src/probe-kinds/snmp/net-snmp.ts, this is the rest.
import type dgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { V3User, Varbind } from '../../probe-kinds/snmp/net-snmp.js';

/** A v1 Trap-PDU (type 164) carries these fields; v2c/v3 Trapv2 (167) and Inform (166) only varbinds. */
export interface ReceivedPdu {
  type: number;
  varbinds: Varbind[];
  enterprise?: string;
  agentAddr?: string;
  generic?: number;
  specific?: number;
  upTime?: number;
  /** With `includeAuthentication`: the v1/v2c community, or the v3 user name. */
  community?: string;
  user?: string;
}

export interface Notification {
  pdu: ReceivedPdu;
  rinfo: dgram.RemoteInfo;
}

export interface ReceiverAuthorizer {
  addCommunity(community: string): void;
  addUser(user: V3User): void;
}

export interface Receiver {
  getAuthorizer(): ReceiverAuthorizer;
  close(callback?: () => void): void;
}

export interface ReceiverOptions {
  port: number;
  address: string;
  transport: 'udp4' | 'udp6';
  includeAuthentication: boolean;
  /** Not in the README, but honoured by the receiver's listener: lets the caller see the socket. */
  dgramModule: { createSocket(type: 'udp4' | 'udp6'): dgram.Socket };
}

/**
 * Errors net-snmp hands the receiver callback. `rinfo` names the sender when a packet caused it; a
 * socket error (EADDRINUSE) has none. `name` tells them apart (not every class is exported):
 * RequestFailedError (unknown community or user), ResponseInvalidError (code 4: could not decrypt,
 * 5: wrong digest), ProcessingError (undecodable packet), RequestInvalidError (not a notification).
 */
export type ReceiverError = Error & { rinfo?: dgram.RemoteInfo; code?: string | number };

/** ResponseInvalidError codes that mean the v3 keys did not match. */
export const RESPONSE_COULD_NOT_DECRYPT = 4;
export const RESPONSE_AUTH_FAILURE = 5;

interface NetSnmpReceiverApi {
  PduType: { Trap: number; TrapV2: number; InformRequest: number };
  createReceiver(options: ReceiverOptions, callback: (error: ReceiverError | null, notification: Notification | null) => void): Receiver;
}

const require = createRequire(import.meta.url);
export const snmpReceiverApi = require('net-snmp') as NetSnmpReceiverApi;
