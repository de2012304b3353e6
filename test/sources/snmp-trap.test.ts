// The SNMP trap receiver on a real UDP socket on 127.0.0.1, traps sent by net-snmp's own sessions
// (v1, v2c, v3 and informs), garbage sent by a plain dgram socket, and one end-to-end run through
// a real IncidentManager over a real SQLite file.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnmpTrapConfig } from '../../src/sources/snmp-trap/config.js';
import type { Signal, TargetRef } from '../../src/domain/signal.js';
import { ObjectType, type V3User, type Varbind } from '../../src/probe-kinds/snmp/net-snmp.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SnmpTrapListenError, SnmpTrapSource } from '../../src/sources/snmp-trap.js';
import { active, harness, type Harness } from '../incidents/harness.js';

// The sending half of net-snmp, typed for these tests only.
interface TrapSession {
  trap(typeOrOid: number | string, varbinds: Varbind[], options: { agentAddr?: string; upTime?: number }, cb: (err: Error | null) => void): void;
  inform(typeOrOid: number | string, varbinds: Varbind[], options: { timeout?: number }, cb: (err: Error | null) => void): void;
  close(): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface SenderApi {
  Version1: number;
  Version2c: number;
  Version3: number;
  TrapType: { ColdStart: number; WarmStart: number; LinkDown: number; LinkUp: number };
  SecurityLevel: { authPriv: number };
  AuthProtocols: Record<string, string>;
  PrivProtocols: Record<string, string>;
  createSession(target: string, community: string, options: object): TrapSession;
  createV3Session(target: string, user: V3User, options: object): TrapSession;
}
const api = createRequire(import.meta.url)('net-snmp') as SenderApi;

const COMMUNITY = 'traps-secret';
const USER = { name: 'trapper', authKey: 'auth-passphrase', privKey: 'priv-passphrase' };

function config(partial: Partial<SnmpTrapConfig> = {}): SnmpTrapConfig {
  return {
    enabled: true,
    host: '127.0.0.1',
    port: 1162,
    communities: [COMMUNITY],
    users: [{ name: USER.name, level: 'authPriv', authProtocol: 'sha', authKey: USER.authKey, privProtocol: 'aes', privKey: USER.privKey }],
    target: { kind: 'device', siteLabel: 'site' },
    labels: { site: 'hq', origin: 'traps' },
    ...partial,
  };
}

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

interface Running {
  source: SnmpTrapSource;
  port: number;
  signals: Signal[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startSource(opts: {
  config?: Partial<SnmpTrapConfig>;
  emit?: (signals: Signal[]) => Promise<void>;
  targetByHost?: (ip: string) => TargetRef | undefined;
} = {}): Promise<Running> {
  const signals: Signal[] = [];
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort();
    const source = new SnmpTrapSource({
      config: config({ port, ...opts.config }),
      emit:
        opts.emit ??
        (async (s) => {
          signals.push(...s);
        }),
      clock: new SystemClock(),
      logger: silentLogger(),
      targetByHost: opts.targetByHost,
    });
    try {
      const started = await source.start();
      cleanups.push(() => source.stop());
      return { source, port: started.port, signals };
    } catch (err) {
      // Another process took the port between the probe and the bind; try another.
      if (!(err instanceof SnmpTrapListenError) || attempt >= 5) throw err;
    }
  }
}

function sender(port: number, version: '1' | '2c' | '3', community = COMMUNITY, user?: V3User, wait = { timeout: 1000, retries: 0 }): TrapSession {
  const options = { trapPort: port, version: version === '1' ? api.Version1 : version === '2c' ? api.Version2c : api.Version3, ...wait };
  const s = version === '3' ? api.createV3Session('127.0.0.1', user!, options) : api.createSession('127.0.0.1', community, options);
  s.on('error', () => undefined);
  cleanups.push(() => s.close());
  return s;
}

function sendTrap(s: TrapSession, typeOrOid: number | string, varbinds: Varbind[] = [], options: { agentAddr?: string; upTime?: number } = {}): Promise<void> {
  return new Promise((resolve, reject) => s.trap(typeOrOid, varbinds, options, (err) => (err ? reject(err) : resolve())));
}

/** Resolves once the receiver answered the inform; rejects when the session's tries ran out. */
function sendInform(s: TrapSession, typeOrOid: number | string, varbinds: Varbind[] = []): Promise<void> {
  return new Promise((resolve, reject) => s.inform(typeOrOid, varbinds, {}, (err) => (err ? reject(err) : resolve())));
}

/** Waits until `cond` holds; fails the test (not a timing assertion) if it never does. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never happened: ${what}`);
}

/** One BER TLV (short-form length: every test packet is under 128 bytes). */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag, body.length]), body]);
}

const LINK_TRAP = '1.3.6.1.6.3.1.1.5.3';
const linkVarbinds = (ifIndex: number, oper: number): Varbind[] => [
  { oid: `1.3.6.1.2.1.2.2.1.1.${ifIndex}`, type: ObjectType.Integer, value: ifIndex },
  { oid: `1.3.6.1.2.1.2.2.1.7.${ifIndex}`, type: ObjectType.Integer, value: 1 },
  { oid: `1.3.6.1.2.1.2.2.1.8.${ifIndex}`, type: ObjectType.Integer, value: oper },
];

describe('SnmpTrapSource', () => {
  it('turns linkDown then linkUp of one interface into one series, fail then ok (v2c)', async () => {
    const r = await startSource();
    const s = sender(r.port, '2c');
    await sendTrap(s, LINK_TRAP, [...linkVarbinds(3, 2), { oid: '1.3.6.1.2.1.2.2.1.2.3', type: ObjectType.OctetString, value: 'eth3' }]);
    await until(() => r.signals.length === 1, 'linkDown signal');
    await sendTrap(s, '1.3.6.1.6.3.1.1.5.4', linkVarbinds(3, 1));
    await until(() => r.signals.length === 2, 'linkUp signal');

    const [down, up] = r.signals as [Signal, Signal];
    expect(down).toMatchObject({
      source: 'snmp-trap',
      target: { id: '127.0.0.1', kind: 'device', name: '127.0.0.1', site: 'hq' },
      check: { name: 'linkDown', type: 'snmp-trap' },
      status: 'fail',
      message: 'interface 3 (eth3) of 127.0.0.1 is down',
      dedupKey: 'ifIndex:3',
      labels: { site: 'hq', origin: 'traps', trap: 'linkDown', trap_oid: LINK_TRAP, snmp_version: '2c', ifIndex: '3' },
      values: { ifIndex: 3, ifAdminStatus: 'up', ifOperStatus: 'down', ifDescr: 'eth3', 'vb.1.3.6.1.2.1.2.2.1.8.3': 2 },
    });
    expect(typeof down.values.sysUpTime).toBe('number');
    expect(up).toMatchObject({ check: { name: 'linkDown' }, status: 'ok', dedupKey: 'ifIndex:3', labels: { trap: 'linkUp' }, values: { ifOperStatus: 'up' } });
    expect(r.source.stats()).toEqual({ received: 2, accepted: 2, rejectedAuth: 0, malformed: 0 });
  });

  it('translates v1 generic and enterprise traps to their v2 OIDs (RFC 3584) and keeps the agent-addr', async () => {
    const r = await startSource();
    const s = sender(r.port, '1');
    await sendTrap(s, api.TrapType.LinkDown, linkVarbinds(7, 2), { agentAddr: '127.0.0.1' });
    await sendTrap(s, '1.3.6.1.4.1.2000.5', [{ oid: '1.3.6.1.4.1.2000.9.1', type: ObjectType.OctetString, value: 'fan failed' }]);
    await until(() => r.signals.length === 2, 'two v1 signals');
    const [link, ent] = r.signals as [Signal, Signal];
    expect(link).toMatchObject({ check: { name: 'linkDown' }, status: 'fail', dedupKey: 'ifIndex:7', labels: { snmp_version: '1', trap_oid: LINK_TRAP }, values: { agentAddr: '127.0.0.1' } });
    expect(ent).toMatchObject({
      check: { name: '1.3.6.1.4.1.2000.0.5' },
      status: 'fail',
      values: { 'vb.1.3.6.1.4.1.2000.9.1': 'fan failed', 'vb.1.3.6.1.6.3.1.1.4.3.0': '1.3.6.1.4.1.2000' },
    });
  });

  it('records coldStart as an event: a fail and an ok at once, marked values.event', async () => {
    const r = await startSource();
    await sendTrap(sender(r.port, '2c'), '1.3.6.1.6.3.1.1.5.1');
    await until(() => r.signals.length === 2, 'coldStart pair');
    expect(r.signals.map((x) => [x.check.name, x.status, x.values.event])).toEqual([
      ['coldStart', 'fail', true],
      ['coldStart', 'ok', true],
    ]);
    expect(r.signals[0]!.message).toContain('cold start');
  });

  it('maps a Printer-MIB printerV2Alert into named values; a clearing code recovers its group', async () => {
    const printer: TargetRef = { id: 'printer-2', kind: 'printer', name: 'Printer 2nd floor', site: 'hq', labels: {}, dependsOn: [] };
    const r = await startSource({ targetByHost: (ip) => (ip === '127.0.0.1' ? printer : undefined) });
    const s = sender(r.port, '2c');
    const alert = (code: number, severity: number, text: string): Varbind[] => [
      { oid: '1.3.6.1.2.1.43.18.1.1.2.1.4', type: ObjectType.Integer, value: severity },
      { oid: '1.3.6.1.2.1.43.18.1.1.4.1.4', type: ObjectType.Integer, value: 6 },
      { oid: '1.3.6.1.2.1.43.18.1.1.5.1.4', type: ObjectType.Integer, value: 1 },
      { oid: '1.3.6.1.2.1.43.18.1.1.7.1.4', type: ObjectType.Integer, value: code },
      { oid: '1.3.6.1.2.1.43.18.1.1.8.1.4', type: ObjectType.OctetString, value: text },
    ];
    await sendTrap(s, '1.3.6.1.2.1.43.18.2.0.1', alert(3, 3, 'Front cover open'));
    await until(() => r.signals.length === 1, 'printer alert');
    await sendTrap(s, '1.3.6.1.2.1.43.18.2.0.1', alert(4, 5, 'Front cover closed'));
    await until(() => r.signals.length === 2, 'printer alert cleared');
    const [open, closed] = r.signals as [Signal, Signal];
    expect(open).toMatchObject({
      target: printer,
      check: { name: 'printerAlert' },
      status: 'fail',
      message: 'Printer 2nd floor: Front cover open (critical)',
      dedupKey: 'alertGroup:6.1',
      values: { alertCode: 3, alertCodeName: 'coverOpen', alertSeverity: 'critical', alertSeverityLevel: 3, alertGroupName: 'cover', alertDescription: 'Front cover open' },
    });
    expect(closed).toMatchObject({ status: 'ok', dedupKey: 'alertGroup:6.1', values: { alertCodeName: 'coverClosed' } });
  });

  it('passes an unknown trap on named by its OID with every varbind in values, and answers informs', async () => {
    const r = await startSource();
    const s = sender(r.port, '2c');
    const vbs: Varbind[] = [
      { oid: '1.3.6.1.4.1.9999.1.1', type: ObjectType.OctetString, value: 'disk 2 degraded' },
      { oid: '1.3.6.1.4.1.9999.1.2', type: ObjectType.Gauge32, value: 87 },
      { oid: '1.3.6.1.4.1.9999.1.3', type: ObjectType.IpAddress, value: '127.0.0.9' },
    ];
    // An inform resolves only once the receiver has acknowledged it.
    await new Promise<void>((resolve, reject) => s.inform('1.3.6.1.4.1.9999.0.42', vbs, {}, (err) => (err ? reject(err) : resolve())));
    await until(() => r.signals.length === 1, 'inform signal');
    expect(r.signals[0]).toMatchObject({
      check: { name: '1.3.6.1.4.1.9999.0.42', type: 'snmp-trap' },
      status: 'fail',
      labels: { alertname: '1.3.6.1.4.1.9999.0.42' },
      values: { 'vb.1.3.6.1.4.1.9999.1.1': 'disk 2 degraded', 'vb.1.3.6.1.4.1.9999.1.2': 87, 'vb.1.3.6.1.4.1.9999.1.3': '127.0.0.9' },
    });
    expect(r.signals[0]!.dedupKey).toBeUndefined();
  });

  it('answers an inform only once its signals are handed over (journaled), not when it arrives', async () => {
    const order: string[] = [];
    const r = await startSource({
      emit: async (s) => {
        // A slow journal write: the Response must wait for it.
        await new Promise((res) => setTimeout(res, 200));
        r.signals.push(...s);
        order.push('handed over');
      },
    });
    await sendInform(sender(r.port, '2c', COMMUNITY, undefined, { timeout: 2000, retries: 0 }), '1.3.6.1.4.1.9999.0.42');
    order.push('answered');
    expect(order).toEqual(['handed over', 'answered']);
    expect(r.signals).toHaveLength(1);
  });

  it('sends no Response when the signals cannot be handed over, so the sender retries', async () => {
    let tries = 0;
    const r = await startSource({
      emit: async (s) => {
        tries++;
        if (tries === 1) throw new Error('cannot write the intake journal: ENOSPC');
        r.signals.push(...s);
      },
    });
    // No retries: the failed hand-over leaves the sender without an answer.
    const once = sender(r.port, '2c', COMMUNITY, undefined, { timeout: 300, retries: 0 });
    await expect(sendInform(once, '1.3.6.1.4.1.9999.0.42')).rejects.toThrow(/timed out/i);
    expect(r.signals).toHaveLength(0);
    expect(tries).toBe(1);
    // A sender that retries (net-snmp sends the same request again) is answered once it works.
    tries = 0;
    const retrying = sender(r.port, '2c', COMMUNITY, undefined, { timeout: 300, retries: 2 });
    await sendInform(retrying, '1.3.6.1.4.1.9999.0.43');
    expect(tries).toBe(2);
    expect(r.signals.map((x) => x.check.name)).toEqual(['1.3.6.1.4.1.9999.0.43']);
  });

  it('answers a v3 authPriv inform once handed over, with a Response the sender accepts', async () => {
    let handed = false;
    const r = await startSource({
      emit: async (s) => {
        await new Promise((res) => setTimeout(res, 50));
        r.signals.push(...s);
        handed = true;
      },
    });
    const user: V3User = {
      name: USER.name,
      level: api.SecurityLevel.authPriv,
      authProtocol: api.AuthProtocols.sha,
      authKey: USER.authKey,
      privProtocol: api.PrivProtocols.aes,
      privKey: USER.privKey,
    };
    await sendInform(sender(r.port, '3', '', user, { timeout: 2000, retries: 0 }), '1.3.6.1.6.3.1.1.5.2');
    expect(handed).toBe(true);
    expect(r.signals[0]).toMatchObject({ check: { name: 'warmStart' }, labels: { snmp_version: '3' } });
  });

  it('accepts SNMPv3 authPriv traps from a known user and drops wrong keys and unknown users', async () => {
    const r = await startSource();
    const user = (name: string, privKey: string): V3User => ({
      name,
      level: api.SecurityLevel.authPriv,
      authProtocol: api.AuthProtocols.sha,
      authKey: USER.authKey,
      privProtocol: api.PrivProtocols.aes,
      privKey,
    });
    await sendTrap(sender(r.port, '3', '', user(USER.name, USER.privKey)), '1.3.6.1.6.3.1.1.5.2');
    await until(() => r.signals.length === 2, 'v3 warmStart');
    expect(r.signals[0]).toMatchObject({ check: { name: 'warmStart' }, labels: { snmp_version: '3' } });

    await sendTrap(sender(r.port, '3', '', user(USER.name, 'not-the-priv-key')), '1.3.6.1.6.3.1.1.5.2');
    await sendTrap(sender(r.port, '3', '', user('stranger', USER.privKey)), '1.3.6.1.6.3.1.1.5.2');
    await until(() => r.source.stats().rejectedAuth === 2, 'two v3 rejections');
    expect(r.signals).toHaveLength(2);
  });

  it('drops and counts a trap with a wrong community, v1 and v2c', async () => {
    const r = await startSource();
    await sendTrap(sender(r.port, '2c', 'public'), LINK_TRAP, linkVarbinds(1, 2));
    await sendTrap(sender(r.port, '1', 'public'), api.TrapType.ColdStart);
    await until(() => r.source.stats().rejectedAuth === 2, 'two rejections');
    // The right community still gets through after.
    await sendTrap(sender(r.port, '2c'), LINK_TRAP, linkVarbinds(1, 2));
    await until(() => r.signals.length === 1, 'accepted trap');
    expect(r.source.stats()).toEqual({ received: 3, accepted: 1, rejectedAuth: 2, malformed: 0 });
  });

  it('counts garbage datagrams as malformed and keeps receiving', async () => {
    const r = await startSource();
    const raw = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((res) => raw.close(() => res())));
    const send = (b: Buffer) => new Promise<void>((res, rej) => raw.send(b, r.port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    await send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await send(Buffer.from([0x30, 0x82, 0xff, 0xff, 0x02, 0x01])); // a BER sequence cut short
    await send(Buffer.alloc(0));
    // A well-formed v2c trap that names no trap (no snmpTrapOID.0 varbind).
    const sysUpTime = tlv(0x30, tlv(0x06, Buffer.from([0x2b, 6, 1, 2, 1, 1, 3, 0])), tlv(0x43, Buffer.from([5])));
    const pdu = tlv(0xa7, tlv(0x02, Buffer.from([1])), tlv(0x02, Buffer.from([0])), tlv(0x02, Buffer.from([0])), tlv(0x30, sysUpTime));
    await send(tlv(0x30, tlv(0x02, Buffer.from([1])), tlv(0x04, Buffer.from(COMMUNITY)), pdu));
    await until(() => r.source.stats().malformed === 4, 'garbage counted');
    await sendTrap(sender(r.port, '2c'), '1.3.6.1.6.3.1.1.5.1');
    await until(() => r.signals.length === 2, 'trap after garbage');
    expect(r.source.stats().accepted).toBe(1);
  });

  it('reports a port already in use with what to do', async () => {
    const holder = dgram.createSocket('udp4');
    const port = await new Promise<number>((res) => holder.bind(0, '127.0.0.1', () => res(holder.address().port)));
    cleanups.push(() => new Promise<void>((res) => holder.close(() => res())));
    const source = new SnmpTrapSource({ config: config({ port }), emit: async () => undefined, clock: new SystemClock(), logger: silentLogger() });
    await expect(source.start()).rejects.toThrow(/cannot listen for SNMP traps on 127\.0\.0\.1:\d+: .*EADDRINUSE.*snmp_traps\.port/);
  });
});

describe('SnmpTrapSource into the incident manager', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('opens an incident on linkDown, resolves it on linkUp, and records a reboot as a resolved incident', async () => {
    h = await harness({ rules: [] });
    const manager = h.manager;
    const r = await startSource({ emit: (s) => manager.submitMany(s) });
    const s = sender(r.port, '2c');

    await sendTrap(s, LINK_TRAP, linkVarbinds(2, 2));
    await until(() => r.source.stats().accepted === 1, 'linkDown accepted');
    await manager.flush();
    const open = await active(h.store);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ ruleId: 'uncategorized', target: { id: '127.0.0.1' }, lastMessage: 'interface 2 of 127.0.0.1 is down' });

    await sendTrap(s, '1.3.6.1.6.3.1.1.5.4', linkVarbinds(2, 1));
    await until(() => r.source.stats().accepted === 2, 'linkUp accepted');
    await manager.flush();
    expect(await active(h.store)).toHaveLength(0);

    await sendTrap(s, '1.3.6.1.6.3.1.1.5.1');
    await until(() => r.source.stats().accepted === 3, 'coldStart accepted');
    await r.source.stop();
    await manager.flush();
    expect(await active(h.store)).toHaveLength(0);
    const all = (await h.store.list({}, 50)).items;
    expect(all.map((i) => [i.check.name, i.status]).sort()).toEqual([
      ['coldStart', 'resolved'],
      ['linkDown', 'resolved'],
    ]);
  });
});

describe('snmp_traps in config/incidentd.yaml', () => {
  async function load(yaml: string) {
    const { mkdtemp, writeFile, mkdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { loadConfig } = await import('../../src/config/load.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'incidentd-traps-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'incidentd.yaml'), yaml);
    await mkdir(path.join(dir, 'probes'));
    await mkdir(path.join(dir, 'rules'));
    return loadConfig({ config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') }, { COMMUNITY: 's3cret' });
  }

  it('is off by default and maps a full section into the loaded config', async () => {
    expect((await load('# nothing\n')).daemon.snmpTraps).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 1162,
      communities: [],
      users: [],
      target: { kind: 'device', siteLabel: null },
      labels: {},
    });
    const loaded = await load(
      'snmp_traps:\n  enabled: true\n  host: 0.0.0.0\n  port: 162\n  communities: ["${COMMUNITY}"]\n' +
        '  users: [{ name: traps, auth_key: authpass1, priv_key: privpass1 }]\n  target: { kind: switch, site_label: site }\n  labels: { site: hq }\n',
    );
    expect(loaded.daemon.snmpTraps).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 162,
      communities: ['s3cret'],
      users: [{ name: 'traps', level: 'authPriv', authProtocol: 'sha', authKey: 'authpass1', privProtocol: 'aes', privKey: 'privpass1' }],
      target: { kind: 'switch', siteLabel: 'site' },
      labels: { site: 'hq' },
    });
  });

  it('names the line of a receiver that would drop every trap, and of a v3 user without keys', async () => {
    await expect(load('snmp_traps:\n  enabled: true\n  users:\n    - name: traps\n      level: authNoPriv\n')).rejects.toThrow(
      /incidentd\.yaml:4:7: auth_key is required for level authNoPriv/,
    );
    await expect(load('snmp_traps:\n  enabled: true\n')).rejects.toThrow(/incidentd\.yaml:\d+:\d+: give at least one community or user/);
  });
});
