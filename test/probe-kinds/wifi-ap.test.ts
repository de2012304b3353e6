import { afterEach, describe, expect, it } from 'vitest';
import { createWifiApKind, uptimeWentBack, wifiApKind } from '../../src/probe-kinds/wifi-ap.js';
import { ProbeTimeoutError } from '../../src/probe-kinds/deadline.js';
import { FakeClock } from '../../src/shared/clock.js';
import { runKind } from './helpers.js';
import { closedUdpPort, startAgent, type AgentValue, type TestAgent } from './snmp-agent.js';

const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const IF = (column: number, index: number) => `1.3.6.1.2.1.2.2.1.${column}.${index}`;
const UNIFI_STATIONS = (vap: number) => `1.3.6.1.4.1.41112.1.6.1.2.1.8.${vap}`;
const MIKROTIK_CLIENTS = (i: number) => `1.3.6.1.4.1.14988.1.1.1.3.1.6.${i}`;

function iface(index: number, name: string, type: number, oper = 1, admin = 1): Record<string, AgentValue> {
  return {
    [IF(2, index)]: { type: 'OctetString', value: name },
    [IF(3, index)]: { type: 'Integer', value: type },
    [IF(7, index)]: { type: 'Integer', value: admin },
    [IF(8, index)]: { type: 'Integer', value: oper },
  };
}

/** A UniFi-like AP: one uplink, two radios, a disabled third radio, two VAPs with stations. */
function apValues(): Record<string, AgentValue> {
  return {
    [SYS_UPTIME]: { type: 'TimeTicks', value: 360_000 },
    ...iface(1, 'eth0', 6),
    ...iface(2, 'wifi0', 71),
    ...iface(3, 'wifi1', 71),
    ...iface(4, 'wifi2', 71, 2, 2),
    ...iface(5, 'lo', 24),
    [UNIFI_STATIONS(1)]: { type: 'Gauge32', value: 7 },
    [UNIFI_STATIONS(2)]: { type: 'Gauge32', value: 5 },
    [MIKROTIK_CLIENTS(1)]: { type: 'Counter32', value: 3 },
  };
}

const agents: TestAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});
async function ap(values: Record<string, AgentValue> = apValues(), community = 'public'): Promise<TestAgent> {
  const a = await startAgent({ community, values });
  agents.push(a);
  return a;
}

describe('wifi-ap probe kind', () => {
  it('is ok when radios and uplink are up, and sums the vendor client count', async () => {
    const a = await ap();
    const r = await runKind(wifiApKind, { host: a.host, port: a.port, vendor: 'ubiquiti' });
    expect(r.status).toBe('ok');
    expect(r.message).toBe(`127.0.0.1:${a.port}: uptime 3600s, 2/2 radios up (1 switched off), 1/1 ethernet up, 12 clients`);
    expect(r.values).toMatchObject({
      uptimeSeconds: 3600,
      rebooted: false,
      radios: 2, // wifi2 is switched off by the admin: not counted as down
      radiosDown: 0,
      radiosDisabled: 1,
      ethernet: 1,
      ethernetDown: 0,
      downInterfaces: '',
      clients: 12,
      interfaces: 5,
    });
    const mikrotik = await runKind(wifiApKind, { host: a.host, port: a.port, vendor: 'mikrotik' });
    expect(mikrotik.values.clients).toBe(3);
    const custom = await runKind(wifiApKind, { host: a.host, port: a.port, vendor: 'cisco', clients_oid: '.1.3.6.1.4.1.41112.1.6.1.2.1.8' });
    expect(custom.values.clients).toBe(12);
  });

  it('says so when the vendor preset finds no client count, without failing', async () => {
    const a = await ap();
    const r = await runKind(wifiApKind, { host: a.host, port: a.port, vendor: 'aruba' });
    expect(r.status).toBe('ok');
    expect(r.values.clients).toBeUndefined();
    expect(r.message).toContain('no client count: nothing under 1.3.6.1.4.1.14823.2.3.3.1.2.2.1.21 (aruba preset AI-AP-MIB::aiRadioClientNum)');
  });

  it('fails while a radio is down, names it, and recovers when it comes back', async () => {
    const a = await ap();
    const kind = createWifiApKind(new FakeClock());
    const spec = { host: a.host, port: a.port, vendor: 'ubiquiti' };
    a.set(IF(8, 3), 2);
    const down = await runKind(kind, spec);
    expect(down.status).toBe('fail');
    expect(down.message).toContain(`127.0.0.1:${a.port}: down: wifi1 (radio, down) (uptime 3600s, 1/2 radios up`);
    expect(down.values).toMatchObject({ radiosDown: 1, ethernetDown: 0, downInterfaces: 'wifi1' });

    a.set(IF(8, 3), 1);
    a.set(IF(8, 1), 7);
    const uplink = await runKind(kind, spec);
    expect(uplink.status).toBe('fail');
    expect(uplink.message).toContain('down: eth0 (ethernet, lowerLayerDown)');
    expect(uplink.values).toMatchObject({ radiosDown: 0, ethernetDown: 1 });

    a.set(IF(8, 1), 1);
    expect((await runKind(kind, spec)).status).toBe('ok');
  });

  it('flags a reboot when sysUpTime goes backwards, without failing, and only once', async () => {
    const a = await ap();
    const clock = new FakeClock();
    const kind = createWifiApKind(clock);
    const spec = { host: a.host, port: a.port };
    expect((await runKind(kind, spec)).values.rebooted).toBe(false);

    await clock.advance(60_000);
    a.set(SYS_UPTIME, 366_000);
    expect((await runKind(kind, spec)).values.rebooted).toBe(false);

    await clock.advance(60_000);
    a.set(SYS_UPTIME, 3_000);
    const rebooted = await runKind(kind, spec);
    expect(rebooted.status).toBe('ok');
    expect(rebooted.values).toMatchObject({ rebooted: true, uptimeSeconds: 30 });
    expect(rebooted.message).toContain('uptime 30s, rebooted since the last run');

    await clock.advance(60_000);
    a.set(SYS_UPTIME, 9_000);
    expect((await runKind(kind, spec)).values.rebooted).toBe(false);
  });

  it('does not mistake the 497-day TimeTicks wrap for a reboot', () => {
    const top = 2 ** 32 - 1000;
    expect(uptimeWentBack({ ticks: top, at: 0 }, { ticks: 5000, at: 60_000 })).toBe(false);
    expect(uptimeWentBack({ ticks: 500_000, at: 0 }, { ticks: 5000, at: 60_000 })).toBe(true);
  });

  it('fails with a clear message on unexpected types instead of crashing', async () => {
    const a = await ap();
    a.set(SYS_UPTIME, { type: 'OctetString', value: '12 days' });
    const r = await runKind(wifiApKind, { host: a.host, port: a.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('sysUpTime is OctetString, expected TimeTicks');

    a.set(SYS_UPTIME, { type: 'TimeTicks', value: 100 });
    a.set(UNIFI_STATIONS(2), { type: 'OctetString', value: 'many' });
    const clients = await runKind(wifiApKind, { host: a.host, port: a.port, vendor: 'ubiquiti' });
    expect(clients.status).toBe('fail');
    expect(clients.message).toContain(`client count (${UNIFI_STATIONS(2)}) is OctetString, expected an integer`);
  });

  it('a silent agent is "no answer" even when the run\'s deadline ends the wait before the last try does', async () => {
    // As on a loaded event loop: the scheduler's deadline (carried by the run) fires at 60 ms,
    // long before the tries of a 2 s timeout end.
    const port = await closedUdpPort();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ProbeTimeoutError(2000)), 60);
    const spec = wifiApKind.schema.parse({ host: '127.0.0.1', port }) as Parameters<typeof wifiApKind.run>[0];
    const r = await wifiApKind.run(spec, { timeoutMs: 2000, signal: controller.signal, hasDeadline: true });
    clearTimeout(timer);
    expect(r.status).toBe('fail');
    expect(r.message).toBe(`127.0.0.1:${port}: no answer within 2s (wrong community or host down?)`);
  });

  it('fails when the agent does not answer: wrong community, or nothing on the port', async () => {
    const a = await ap(apValues(), 'ap-secret');
    const wrong = await runKind(wifiApKind, { host: a.host, port: a.port }, 300);
    expect(wrong.status).toBe('fail');
    expect(wrong.message).toMatch(/no answer within 0\.\d+s \(wrong community or host down\?\)/);
    expect((await runKind(wifiApKind, { host: a.host, port: a.port, community: 'ap-secret' })).status).toBe('ok');

    const port = await closedUdpPort();
    const closed = await runKind(wifiApKind, { host: '127.0.0.1', port }, 300);
    expect(closed.status).toBe('fail');
    expect(closed.message).toContain('no answer within');
  });

  it('rejects unknown vendors, bad OIDs and unknown fields in its schema', () => {
    const parse = (spec: object) => wifiApKind.schema.safeParse({ host: 'ap-1', ...spec }).success;
    expect(parse({ vendor: 'ubiquiti' })).toBe(true);
    expect(parse({ vendor: 'netgear' })).toBe(false);
    expect(parse({ clients_oid: 'unifiVapNumStations' })).toBe(false);
    expect(parse({ clients_oid: '1.3.6.1.4.1.41112.1.6.1.2.1.8' })).toBe(true);
    expect(parse({ version: '3', user: { name: 'ap', auth_key: 'auth-key-1', priv_key: 'priv-key-1', priv_protocol: 'aes256r' } })).toBe(true);
    expect(parse({ radios: 2 })).toBe(false);
    expect(wifiApKind.defaultName(wifiApKind.schema.parse({ host: 'ap-1' }) as never)).toBe('wifi-ap:ap-1');
  });
});
