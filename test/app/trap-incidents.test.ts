// Traps from a watched device, sent by net-snmp's own sessions to the real receiver on 127.0.0.1,
// classified by the shipped rules (rules/*.yaml), into the manager over a real SQLite store
// (issue 13): a trap is an event and opens at once.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { TargetRef } from '../../src/domain/signal.js';
import { ObjectType, type Varbind } from '../../src/probe-kinds/snmp/net-snmp.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SnmpTrapListenError, SnmpTrapSource } from '../../src/sources/snmp-trap.js';
import { REPO } from '../config/helpers.js';
import { harness, type Harness } from '../incidents/harness.js';

interface TrapSession {
  trap(typeOrOid: number | string, varbinds: Varbind[], options: object, cb: (err: Error | null) => void): void;
  close(): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
const api = createRequire(import.meta.url)('net-snmp') as {
  Version2c: number;
  createSession(target: string, community: string, options: object): TrapSession;
};

const SHIPPED = {
  config: path.join(REPO, 'config/incidentd.yaml'),
  probesDir: path.join(REPO, 'probes'),
  rulesDir: path.join(REPO, 'rules'),
};
const COMMUNITY = 'traps-secret';
const printer: TargetRef = { id: 'printer-2og', kind: 'printer', name: 'Printer 2OG', site: 'HQ', labels: {}, dependsOn: [] };
const ap: TargetRef = { id: 'ap-lobby', kind: 'wifi-ap', name: 'AP lobby', site: 'HQ', labels: {}, dependsOn: [] };

const cleanups: (() => Promise<void> | void)[] = [];
let h: Harness | null = null;
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await h?.close();
  h = null;
});

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

/** Rules as shipped, a receiver whose every sender is `target`, and a v2c sender. */
async function setup(target: TargetRef) {
  const { rules } = await loadConfig(SHIPPED, {});
  h = await harness({ rules, targets: [target] });
  const manager = h.manager;
  for (let attempt = 1; ; attempt++) {
    const source = new SnmpTrapSource({
      config: {
        enabled: true,
        host: '127.0.0.1',
        port: await freeUdpPort(),
        communities: [COMMUNITY],
        users: [],
        target: { kind: 'device', siteLabel: null },
        labels: {},
      },
      emit: (s) => manager.submitMany(s),
      clock: new SystemClock(),
      logger: silentLogger(),
      targetByHost: (ip) => (ip === '127.0.0.1' ? target : undefined),
    });
    try {
      const { port } = await source.start();
      cleanups.push(() => source.stop());
      const session = api.createSession('127.0.0.1', COMMUNITY, { trapPort: port, version: api.Version2c });
      session.on('error', () => undefined);
      cleanups.push(() => session.close());
      const send = async (oid: string, varbinds: Varbind[] = []) => {
        const before = source.stats().accepted;
        await new Promise<void>((resolve, reject) => session.trap(oid, varbinds, {}, (err) => (err ? reject(err) : resolve())));
        for (let i = 0; i < 400 && source.stats().accepted === before; i++) await new Promise((r) => setTimeout(r, 5));
        if (source.stats().accepted === before) throw new Error(`trap ${oid} never accepted`);
        await manager.flush();
      };
      return { h, send };
    } catch (err) {
      if (!(err instanceof SnmpTrapListenError) || attempt >= 5) throw err;
    }
  }
}

const link = (ifIndex: number, oper: number): Varbind[] => [
  { oid: `1.3.6.1.2.1.2.2.1.1.${ifIndex}`, type: ObjectType.Integer, value: ifIndex },
  { oid: `1.3.6.1.2.1.2.2.1.7.${ifIndex}`, type: ObjectType.Integer, value: 1 },
  { oid: `1.3.6.1.2.1.2.2.1.8.${ifIndex}`, type: ObjectType.Integer, value: oper },
];
const printerAlert = (group: number, code: number, description: string): Varbind[] => [
  { oid: '1.3.6.1.2.1.43.18.1.1.2.1.7', type: ObjectType.Integer, value: 4 },
  { oid: '1.3.6.1.2.1.43.18.1.1.4.1.7', type: ObjectType.Integer, value: group },
  { oid: '1.3.6.1.2.1.43.18.1.1.5.1.7', type: ObjectType.Integer, value: 1 },
  { oid: '1.3.6.1.2.1.43.18.1.1.7.1.7', type: ObjectType.Integer, value: code },
  { oid: '1.3.6.1.2.1.43.18.1.1.8.1.7', type: ObjectType.OctetString, value: description },
];

async function all(hh: Harness) {
  return (await hh.store.list({}, 50)).items.map((i) => ({ rule: i.ruleId, status: i.status, title: i.title, target: i.target.id }));
}

describe('traps from a watched printer, shipped rules', () => {
  it('linkDown opens an incident at the first trap; linkUp of that interface resolves it', async () => {
    const { h, send } = await setup(printer);
    await send('1.3.6.1.6.3.1.1.5.3', link(1, 2));
    expect(await all(h)).toEqual([{ rule: 'trap-link-down', status: 'open', title: 'Printer 2OG: link down on interface 1', target: 'printer-2og' }]);
    await send('1.3.6.1.6.3.1.1.5.4', link(1, 1));
    expect((await all(h)).map((i) => [i.rule, i.status])).toEqual([['trap-link-down', 'resolved']]);
  });

  it('a Printer-MIB alert (cover open) opens at once; cover closed resolves it', async () => {
    const { h, send } = await setup(printer);
    await send('1.3.6.1.2.1.43.18.2.0.1', printerAlert(6, 3, 'Cover open'));
    expect(await all(h)).toEqual([{ rule: 'trap-printer-alert', status: 'open', title: 'Printer 2OG: Cover open (cover)', target: 'printer-2og' }]);
    await send('1.3.6.1.2.1.43.18.2.0.1', printerAlert(6, 4, 'Cover closed'));
    expect((await all(h)).map((i) => [i.rule, i.status])).toEqual([['trap-printer-alert', 'resolved']]);
  });
});

describe('traps from a watched access point, shipped rules', () => {
  it('coldStart is recorded as a reboot that resolves by itself', async () => {
    const { h, send } = await setup(ap);
    await send('1.3.6.1.6.3.1.1.5.1');
    const items = (await h.store.list({}, 50)).items;
    expect(items.map((i) => [i.ruleId, i.status, i.title])).toEqual([['trap-reboot', 'resolved', 'AP lobby restarted (coldStart)']]);
    expect((await h.store.get(items[0]!.number))!.timeline.map((e) => e.action)).toEqual(['opened', 'resolved']);
  });

  it('authenticationFailure opens a medium security incident at once', async () => {
    const { h, send } = await setup(ap);
    await send('1.3.6.1.6.3.1.1.5.5');
    const items = (await h.store.list({}, 50)).items;
    expect(items.map((i) => [i.ruleId, i.status, i.severity, i.category])).toEqual([['trap-auth-failure', 'open', 'medium', 'security.access']]);
  });
});
