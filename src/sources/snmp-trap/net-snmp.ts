// The notification-receiver part of `net-snmp`, typed. The package ships no type declarations; the
// session and agent parts are typed in src/probe-kinds/snmp/net-snmp.ts, this is the rest.
import type dgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { V3User, Varbind } from '../../probe-kinds/snmp/net-snmp.js';
import { IncidentdError } from '../../shared/errors.js';

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

/** What the receiver hands its listener to send: an encoded-on-demand SNMP message. */
interface OutgoingMessage {
  pdu: { type: number };
  toBuffer(): Buffer;
}

/** The receiver's listener (not in the README): every answer the receiver sends goes through `send`. */
interface ReceiverInternals {
  listener?: { send?: (message: OutgoingMessage, rinfo: dgram.RemoteInfo, socket: dgram.Socket) => void };
}

/** An inform's Response, encoded as net-snmp would have sent it, not sent yet. */
export interface HeldResponse {
  bytes: Buffer;
  rinfo: dgram.RemoteInfo;
  socket: dgram.Socket;
}

/** net-snmp's receiver no longer looks as this module expects (after an upgrade of the package). */
export class ReceiverInternalsError extends IncidentdError {}

/**
 * net-snmp's Receiver answers an inform as soon as it decodes it, before its callback sees the
 * notification, and has no option to leave the answer to the caller. An answer promises the sender
 * that the notification is stored, so the Response is held here instead: the receiver's `send`
 * keeps a Response-PDU (type GetResponse, what the receiver turns an inform into) and passes every
 * other message (v3 discovery and error reports) through. The receiver calls `send` and then, in
 * the same turn, the callback with the inform; the callback takes the held answer with `take()`.
 */
export function holdInformResponses(receiver: Receiver): { take(): HeldResponse | null } {
  const listener = (receiver as unknown as ReceiverInternals).listener;
  const send = listener?.send;
  if (!listener || typeof send !== 'function') {
    throw new ReceiverInternalsError('net-snmp receiver has no listener.send; this version of net-snmp is not supported for SNMP informs');
  }
  let held: HeldResponse | null = null;
  listener.send = (message, rinfo, socket) => {
    if (message.pdu.type !== snmpReceiverApi.PduType.GetResponse) {
      send.call(listener, message, rinfo, socket);
      return;
    }
    // Encoded now: the receiver turns the PDU back into the inform right after this call.
    held = { bytes: message.toBuffer(), rinfo, socket };
  };
  return {
    take() {
      const h = held;
      held = null;
      return h;
    },
  };
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
  PduType: { Trap: number; TrapV2: number; InformRequest: number; GetResponse: number };
  createReceiver(options: ReceiverOptions, callback: (error: ReceiverError | null, notification: Notification | null) => void): Receiver;
}

const require = createRequire(import.meta.url);
let loaded: NetSnmpReceiverApi | undefined;
/** net-snmp, loaded when a receiver starts (traps are off by default). */
export const snmpReceiverApi: NetSnmpReceiverApi = new Proxy({} as NetSnmpReceiverApi, {
  get: (_, name): unknown => Reflect.get((loaded ??= require('net-snmp') as NetSnmpReceiverApi), name),
});
