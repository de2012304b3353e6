// The parts of the `net-snmp` package incidentd uses, typed. The package ships no type
// declarations; this narrow interface is the one place that knows its shape.
import { createRequire } from 'node:module';

/** ASN.1 / SMI type tags as net-snmp numbers them (snmp.ObjectType). */
export const ObjectType = {
  Boolean: 1,
  Integer: 2,
  OctetString: 4,
  Null: 5,
  OID: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

export type ObjectTypeName = keyof typeof ObjectType;

/** The name of a type tag, e.g. 65 → `Counter32`; unknown tags read as `type 99`. */
export function objectTypeName(type: number): string {
  const entry = Object.entries(ObjectType).find(([, n]) => n === type);
  return entry ? entry[0] : `type ${type}`;
}

export interface Varbind {
  oid: string;
  type: number;
  value: unknown;
}

export interface V3User {
  name: string;
  level: number;
  authProtocol?: string | undefined;
  authKey?: string | undefined;
  privProtocol?: string | undefined;
  privKey?: string | undefined;
}

export interface SessionOptions {
  port?: number;
  retries?: number;
  timeout?: number;
  backoff?: number;
  transport?: 'udp4' | 'udp6';
  version?: number;
  idBitsSize?: 16 | 32;
}

export type ResponseCallback = (error: Error | null, varbinds?: Varbind[]) => void;

export interface Session {
  get(oids: string[], callback: ResponseCallback): void;
  subtree(oid: string, maxRepetitions: number, feed: (varbinds: Varbind[]) => boolean | void, done: (error: Error | null) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'close', listener: () => void): void;
}

export interface MibNode {
  oid: string;
  value: unknown;
  valueType: number;
  children: Record<string, MibNode>;
  parent: MibNode | null;
  delete(): void;
}

export interface Mib {
  registerProvider(provider: Record<string, unknown>): void;
  addProviderToNode(provider: Record<string, unknown>): MibNode;
  addNodesForOid(oid: string): MibNode;
  lookup(oid: string): MibNode | null;
}

export interface Authorizer {
  addCommunity(community: string): void;
  deleteCommunity(community: string): void;
  addUser(user: V3User): void;
  deleteUser(name: string): void;
}

export interface Agent {
  getMib(): Mib;
  getAuthorizer(): Authorizer;
  close(callback?: () => void): void;
}

export interface AgentOptions {
  port: number;
  address?: string;
  transport?: 'udp4' | 'udp6';
  disableAuthorization?: boolean;
  /** Not in the README for agents, but honoured by their listener: lets a caller see the socket. */
  dgramModule?: { createSocket(type: 'udp4' | 'udp6'): import('node:dgram').Socket };
}

interface NetSnmp {
  Version1: number;
  Version2c: number;
  Version3: number;
  SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  AuthProtocols: Record<string, string>;
  PrivProtocols: Record<string, string>;
  MibProviderType: { Scalar: string; Table: string };
  MaxAccess: Record<string, number>;
  ErrorStatus: Record<string | number, string | number>;
  ResponseInvalidCode: Record<string | number, string | number>;
  RequestTimedOutError: new (...args: never[]) => Error;
  RequestFailedError: new (...args: never[]) => Error & { status?: number };
  ResponseInvalidError: new (...args: never[]) => Error & { code?: number };
  RequestInvalidError: new (...args: never[]) => Error;
  createSession(target: string, community: string, options: SessionOptions): Session;
  createV3Session(target: string, user: V3User, options: SessionOptions): Session;
  createAgent(options: AgentOptions, callback: (error: Error | null, data?: unknown) => void): Agent;
}

const require = createRequire(import.meta.url);
let loaded: NetSnmp | undefined;
/**
 * net-snmp, loaded on first use: a daemon without SNMP checks or a trap listener does not carry the
 * package (about 0.3 MB of source and what it builds) for its whole life.
 */
export const snmp: NetSnmp = new Proxy({} as NetSnmp, {
  get: (_, name): unknown => Reflect.get((loaded ??= require('net-snmp') as NetSnmp), name),
});
