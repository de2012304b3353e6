// A real SNMP agent (net-snmp's Agent) on 127.0.0.1 with a free UDP port: the simulated devices of
// `incidentd demo`, and the peer of the SNMP probe tests and benchmarks. Values live in the agent's
// MIB tree and can be changed while it runs.
//
//   const agent = await startAgent({ community: 'public', values: {
//     '1.3.6.1.2.1.1.3.0': { type: 'TimeTicks', value: 12_345 },
//     '1.3.6.1.2.1.1.5.0': { type: 'OctetString', value: 'ap-1' },
//   } });
//   agent.set('1.3.6.1.2.1.1.3.0', 10);              // keeps the type
//   agent.set('1.3.6.1.2.1.1.5.0', { type: 'Integer', value: 7 }); // changes it
//   agent.delete('1.3.6.1.2.1.1.5.0');               // now noSuchInstance
//   await agent.stop();
import dgram from 'node:dgram';
import { ObjectType, snmp, type Agent, type MibNode, type ObjectTypeName } from '../probe-kinds/snmp/net-snmp.js';

export type AgentValueType = Exclude<ObjectTypeName, 'NoSuchObject' | 'NoSuchInstance' | 'EndOfMibView'>;

export interface AgentValue {
  type: AgentValueType;
  /** numbers for integer types (bigint allowed for Counter64), strings or Buffers for OctetString/Opaque, dotted strings for OID/IpAddress. */
  value: number | bigint | string | boolean | Buffer | null;
}

export interface AgentUser {
  name: string;
  level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
  authProtocol?: 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
  authKey?: string;
  privProtocol?: 'des' | 'aes' | 'aes256b' | 'aes256r';
  privKey?: string;
}

export interface StartAgentOptions {
  /** Accepted v1/v2c communities. Default `public`. Requests with any other community get no answer. */
  community?: string | string[];
  /** SNMPv3 users the agent knows. */
  v3users?: AgentUser[];
  /** Initial values, by dotted OID (no leading dot needed). */
  values?: Record<string, AgentValue>;
}

export interface SnmpAgent {
  host: '127.0.0.1';
  port: number;
  /** Sets a value; a bare value keeps the OID's current type (the OID must exist then). */
  set(oid: string, value: AgentValue | AgentValue['value']): void;
  /** Sets many values at once. */
  setAll(values: Record<string, AgentValue>): void;
  /** Removes an OID: a GET for it then answers noSuchInstance, a walk skips it. */
  delete(oid: string): void;
  /** The current value, as stored (Counter64 as a Buffer). */
  get(oid: string): unknown;
  /** While silent the agent answers nobody (a device unplugged, a firewall in between). */
  setSilent(silent: boolean): void;
  stop(): Promise<void>;
}

/** The agent answers for everything under 1.3.6.1 (internet). */
const ROOT_OID = '1.3.6.1';
/**
 * The last OID of the agent's MIB. net-snmp's agent answers a GETNEXT past its last value with
 * noSuchInstance for the requested OID instead of endOfMibView, which sends walks round in
 * circles; with this value last, every walk ends on an OID outside its subtree, as on a real agent.
 */
export const SENTINEL_OID = '1.3.6.1.99999.0';

function normaliseOid(oid: string): string {
  return oid.startsWith('.') ? oid.slice(1) : oid;
}

function counter64Buffer(value: number | bigint): Buffer {
  const n = BigInt(value);
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new RangeError(`Counter64 out of range: ${n}`);
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** The value as net-snmp's encoder wants it for `type`. */
function encode(v: AgentValue): unknown {
  if (v.type === 'Counter64' && (typeof v.value === 'number' || typeof v.value === 'bigint')) return counter64Buffer(v.value);
  if ((v.type === 'OctetString' || v.type === 'Opaque') && typeof v.value === 'string') return Buffer.from(v.value, 'utf8');
  return v.value;
}

/** A free UDP port on 127.0.0.1: bound once and released (the agent binds it right after). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts the agent; resolves once it listens. */
export async function startAgent(options: StartAgentOptions = {}): Promise<SnmpAgent> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, await freeUdpPort());
    } catch (err) {
      // Another process took the port between our probe and the agent's bind; try another.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

async function startOnce(options: StartAgentOptions, port: number): Promise<SnmpAgent> {
  const sockets: dgram.Socket[] = [];
  const agent: Agent = snmp.createAgent(
    {
      port,
      address: '127.0.0.1',
      transport: 'udp4',
      dgramModule: {
        createSocket: (type) => {
          const s = dgram.createSocket(type);
          sockets.push(s);
          return s;
        },
      },
    },
    // Refused requests (wrong community, unknown user) land here; the agent just does not answer.
    () => undefined,
  );
  const socket = sockets[0];
  if (!socket) throw new Error('net-snmp agent did not open a socket');
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      agent.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.once('listening', () => {
      socket.off('error', onError);
      resolve();
    });
  });

  const authorizer = agent.getAuthorizer();
  const communities = options.community === undefined ? ['public'] : [options.community].flat();
  for (const c of communities) authorizer.addCommunity(c);
  // The net-snmp form of each configured v3 user, made once: added at start, and again after silence.
  const users = (options.v3users ?? []).map((u) => ({
    name: u.name,
    level: snmp.SecurityLevel[u.level],
    authProtocol: u.authProtocol === undefined ? undefined : snmp.AuthProtocols[u.authProtocol],
    authKey: u.authKey,
    privProtocol: u.privProtocol === undefined ? undefined : snmp.PrivProtocols[u.privProtocol],
    privKey: u.privKey,
  }));
  for (const u of users) authorizer.addUser(u);

  // One read-only scalar provider at the root makes the agent serve any instance node below it:
  // the agent answers a GET or GETNEXT for a node that has a value and a provider above it.
  // This lets a caller place values at arbitrary OIDs (table cells included) without MIB modules.
  const mib = agent.getMib();
  const provider = {
    name: 'incidentdDemoRoot',
    type: snmp.MibProviderType.Scalar,
    oid: ROOT_OID,
    scalarType: ObjectType.OctetString,
    maxAccess: snmp.MaxAccess['read-only'],
  };
  mib.registerProvider(provider);
  // registerProvider only records a scalar provider; its tree node appears when a value is set.
  mib.addProviderToNode(provider);

  const put = (oid: string, v: AgentValue) => {
    const key = normaliseOid(oid);
    if (!key.startsWith(`${ROOT_OID}.`)) throw new RangeError(`the agent serves only OIDs under ${ROOT_OID}, not ${oid}`);
    if (!(v.type in ObjectType)) throw new RangeError(`unknown SNMP type ${v.type}`);
    const node = mib.addNodesForOid(key);
    if (Object.keys(node.children).length > 0) throw new RangeError(`${oid} has OIDs below it; values go on leaves only`);
    node.valueType = ObjectType[v.type];
    node.value = encode(v);
  };

  put(SENTINEL_OID, { type: 'OctetString', value: 'end of the incidentd simulated agent MIB' });
  for (const [oid, v] of Object.entries(options.values ?? {})) put(oid, v);

  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    set(oid, value) {
      if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
        put(oid, value);
        return;
      }
      const node = mib.lookup(normaliseOid(oid));
      if (!node || node.value === undefined) throw new RangeError(`${oid} is not set yet; pass { type, value }`);
      const name = Object.entries(ObjectType).find(([, n]) => n === node.valueType)![0] as AgentValueType;
      put(oid, { type: name, value });
    },
    setAll(values) {
      for (const [oid, v] of Object.entries(values)) put(oid, v);
    },
    delete(oid) {
      let node = mib.lookup(normaliseOid(oid));
      if (!node || Object.keys(node.children).length > 0 || node.oid === ROOT_OID) return;
      // Remove the leaf and every ancestor it leaves empty: an empty inner node would look like a
      // value-less leaf to GETNEXT and turn a walk into noSuchInstance.
      while (node && node.oid !== ROOT_OID && Object.keys(node.children).length === 0) {
        const parent: MibNode | null = node.parent;
        node.delete();
        node = parent;
      }
    },
    get(oid) {
      return mib.lookup(normaliseOid(oid))?.value;
    },
    setSilent(silent) {
      // Refused requests get no answer at all: forgetting every community and user is silence.
      for (const c of communities) {
        if (silent) authorizer.deleteCommunity(c);
        else authorizer.addCommunity(c);
      }
      for (const u of users) {
        if (silent) authorizer.deleteUser(u.name);
        else authorizer.addUser(u);
      }
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => agent.close(() => resolve()));
      return stopped;
    },
  };
}

/** A loopback UDP port nothing listens on: bound once, then released. */
export function closedUdpPort(): Promise<number> {
  return freeUdpPort();
}
