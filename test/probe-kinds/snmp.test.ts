import { afterEach, describe, expect, it } from 'vitest';
import { createSnmpKind, snmpKind } from '../../src/probe-kinds/snmp.js';
import { FakeClock } from '../../src/shared/clock.js';
import { runKind } from './helpers.js';
import { closedUdpPort, startAgent, type StartAgentOptions, type TestAgent } from './snmp-agent.js';

const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
const IF_DESCR = '1.3.6.1.2.1.2.2.1.2';
const IF_PHYS = '1.3.6.1.2.1.2.2.1.6';
const IF_HC_IN = '1.3.6.1.2.1.31.1.1.1.6';
const IF_IN = '1.3.6.1.2.1.2.2.1.10';

const agents: TestAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});
async function agent(options: StartAgentOptions = {}): Promise<TestAgent> {
  const a = await startAgent({
    values: {
      [SYS_UPTIME]: { type: 'TimeTicks', value: 4_200 },
      [SYS_NAME]: { type: 'OctetString', value: 'core-sw-1' },
      [SYS_OBJECT_ID]: { type: 'OID', value: '1.3.6.1.4.1.9.1.1' },
      [`${IF_DESCR}.1`]: { type: 'OctetString', value: 'eth0' },
      [`${IF_DESCR}.2`]: { type: 'OctetString', value: 'wlan0' },
      [`${IF_PHYS}.1`]: { type: 'OctetString', value: Buffer.from([0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]) },
      [`${IF_HC_IN}.1`]: { type: 'Counter64', value: 10_000_000_000n },
      [`${IF_IN}.1`]: { type: 'Counter32', value: 1000 },
    },
    ...options,
  });
  agents.push(a);
  return a;
}

const V3_USER = { name: 'monitor', level: 'authPriv', authProtocol: 'sha', authKey: 'auth-secret-1', privProtocol: 'aes', privKey: 'priv-secret-1' } as const;

describe('snmp probe kind', () => {
  it('GETs named OIDs over v2c: numbers, text, hex for binary octets, OIDs as strings', async () => {
    const a = await agent();
    const r = await runKind(snmpKind, {
      host: a.host,
      port: a.port,
      community: 'public',
      get: { uptime: SYS_UPTIME, name: SYS_NAME, objectId: `.${SYS_OBJECT_ID}`, mac: `${IF_PHYS}.1`, inOctets: `${IF_HC_IN}.1` },
    });
    expect(r.status).toBe('ok');
    expect(r.message).toContain(`127.0.0.1:${a.port}: SNMPv2c 5 values`);
    expect(r.values).toMatchObject({
      uptime: 4200,
      name: 'core-sw-1',
      objectId: '1.3.6.1.4.1.9.1.1',
      mac: '001a2b3c4d5e',
      inOctets: 10_000_000_000,
    });
  });

  it('WALKs a subtree into <name>.count and <name>.<index>, and sees rows come and go', async () => {
    const a = await agent();
    const spec = { host: a.host, port: a.port, walk: { ifDescr: IF_DESCR } };
    const r = await runKind(snmpKind, spec);
    expect(r.status).toBe('ok');
    expect(r.values).toMatchObject({ 'ifDescr.count': 2, 'ifDescr.1': 'eth0', 'ifDescr.2': 'wlan0' });
    expect(r.message).toContain('ifDescr: 2 rows');

    a.set(`${IF_DESCR}.3`, { type: 'OctetString', value: 'wlan1' });
    a.delete(`${IF_DESCR}.1`);
    const again = await runKind(snmpKind, spec);
    expect(again.values['ifDescr.count']).toBe(2);
    expect(again.values['ifDescr.1']).toBeUndefined();
    expect(again.values['ifDescr.3']).toBe('wlan1');
  });

  it('an empty subtree walks to zero rows', async () => {
    const a = await agent();
    const r = await runKind(snmpKind, { host: a.host, port: a.port, walk: { nothing: '1.3.6.1.2.1.99' } });
    expect(r.status).toBe('ok');
    expect(r.values['nothing.count']).toBe(0);
  });

  it('speaks SNMPv1', async () => {
    const a = await agent();
    const r = await runKind(snmpKind, { host: a.host, port: a.port, version: '1', get: { name: SYS_NAME }, walk: { ifDescr: IF_DESCR } });
    expect(r.status).toBe('ok');
    expect(r.message).toContain('SNMPv1');
    expect(r.values).toMatchObject({ name: 'core-sw-1', 'ifDescr.count': 2 });
  });

  it('speaks SNMPv3 authPriv (SHA + AES), and fails clearly with a wrong key or an unknown user', async () => {
    const a = await agent({ v3users: [V3_USER] });
    const user = { name: 'monitor', level: 'authPriv', auth_protocol: 'sha', auth_key: 'auth-secret-1', priv_protocol: 'aes', priv_key: 'priv-secret-1' };
    const ok = await runKind(snmpKind, { host: a.host, port: a.port, version: '3', user, get: { name: SYS_NAME } });
    expect(ok.status).toBe('ok');
    expect(ok.message).toContain('SNMPv3');
    expect(ok.values.name).toBe('core-sw-1');

    const wrongKey = await runKind(snmpKind, { host: a.host, port: a.port, version: '3', user: { ...user, auth_key: 'not-the-key' }, get: { name: SYS_NAME } }, 300);
    expect(wrongKey.status).toBe('fail');
    expect(wrongKey.message).toMatch(/no answer within [\d.]+s \(wrong user or keys, or host down\?\)/);

    const stranger = await runKind(snmpKind, { host: a.host, port: a.port, version: '3', user: { ...user, name: 'intruder' }, get: { name: SYS_NAME } }, 300);
    expect(stranger.status).toBe('fail');
    expect(stranger.message).toContain('Unknown User Name');
  });

  it('speaks SNMPv3 authPriv with MD5 + AES-256, and authNoPriv with SHA-256', async () => {
    const a = await agent({
      v3users: [
        { name: 'md5user', level: 'authPriv', authProtocol: 'md5', authKey: 'md5-secret-1', privProtocol: 'aes256b', privKey: 'aes-secret-1' },
        { name: 'authonly', level: 'authNoPriv', authProtocol: 'sha256', authKey: 'sha-secret-1' },
      ],
    });
    const md5 = await runKind(snmpKind, {
      host: a.host,
      port: a.port,
      version: '3',
      user: { name: 'md5user', auth_protocol: 'md5', auth_key: 'md5-secret-1', priv_protocol: 'aes256b', priv_key: 'aes-secret-1' },
      get: { uptime: SYS_UPTIME },
    });
    expect(md5.status).toBe('ok');
    const authOnly = await runKind(snmpKind, {
      host: a.host,
      port: a.port,
      version: '3',
      user: { name: 'authonly', level: 'authNoPriv', auth_protocol: 'sha256', auth_key: 'sha-secret-1' },
      get: { uptime: SYS_UPTIME },
    });
    expect(authOnly.status).toBe('ok');
    expect(authOnly.values.uptime).toBe(4200);
  });

  it('fails naming the OID when the agent has no such object or instance', async () => {
    const a = await agent();
    const r = await runKind(snmpKind, { host: a.host, port: a.port, get: { name: SYS_NAME, location: '1.3.6.1.2.1.1.6.0' } });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('1.3.6.1.2.1.1.6.0 does not exist on the agent (NoSuchInstance)');

    a.delete(SYS_NAME);
    const gone = await runKind(snmpKind, { host: a.host, port: a.port, version: '1', get: { name: SYS_NAME } });
    expect(gone.status).toBe('fail');
    expect(gone.message).toContain(`${SYS_NAME} does not exist on the agent`);
  });

  it('says "wrong community or host down?" when the agent ignores the community', async () => {
    const a = await agent({ community: 'secret' });
    const r = await runKind(snmpKind, { host: a.host, port: a.port, community: 'public', get: { name: SYS_NAME } }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${a.port}: no answer within 0\\.\\d+s \\(wrong community or host down\\?\\)$`));
    const right = await runKind(snmpKind, { host: a.host, port: a.port, community: 'secret', get: { name: SYS_NAME } });
    expect(right.status).toBe('ok');
  });

  it('fails with "no answer" when nothing listens on the port, and with a DNS message for a bad name', async () => {
    const port = await closedUdpPort();
    const r = await runKind(snmpKind, { host: '127.0.0.1', port, retries: 0, get: { name: SYS_NAME } }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('no answer within');
    const dns = await runKind(snmpKind, { host: 'agent.invalid', get: { name: SYS_NAME } }, 2000);
    expect(dns.status).toBe('fail');
    expect(dns.message).toContain('cannot resolve host name');
  });

  it('stops at once when the caller aborts', async () => {
    const a = await agent({ community: 'other' });
    const controller = new AbortController();
    const pending = snmpKind.run(snmpKind.schema.parse({ host: a.host, port: a.port, get: { name: SYS_NAME } }) as never, {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const r = await pending;
    expect(r.status).toBe('fail');
    expect(r.message).toContain('aborted: shutting down');
  });

  it('turns counters into per-second rates between runs, across a Counter32 wrap', async () => {
    const a = await agent();
    const clock = new FakeClock();
    const kind = createSnmpKind(clock);
    const spec = { host: a.host, port: a.port, get: { hcIn: `${IF_HC_IN}.1`, in: `${IF_IN}.1` }, counters: ['hcIn', 'in'] };

    const first = await runKind(kind, spec);
    expect(first.status).toBe('ok');
    expect(first.values.hcInRate).toBeUndefined();

    a.set(`${IF_HC_IN}.1`, 10_000_012_500n);
    a.set(`${IF_IN}.1`, 3000);
    await clock.advance(10_000);
    const second = await runKind(kind, spec);
    expect(second.values).toMatchObject({ hcIn: 10_000_012_500, hcInRate: 1250, in: 3000, inRate: 200 });

    a.set(`${IF_IN}.1`, 1000); // wrapped: 2^32 - 3000 + 1000 octets in 5 s
    await clock.advance(5_000);
    const third = await runKind(kind, spec);
    expect(third.values.inRate).toBeCloseTo((2 ** 32 - 2000) / 5, 3);
  });

  it('fails clearly when a counter is not a counter, or a value has an unexpected type', async () => {
    const a = await agent();
    const r = await runKind(snmpKind, { host: a.host, port: a.port, get: { name: SYS_NAME }, counters: ['name'] });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('name (1.3.6.1.2.1.1.5.0) is listed under counters but the agent returned OctetString, not Counter32/Counter64');

    // The generic kind passes any type through as a value; rules decide what it means.
    a.set(SYS_UPTIME, { type: 'IpAddress', value: '127.0.0.1' });
    const odd = await runKind(snmpKind, { host: a.host, port: a.port, get: { uptime: SYS_UPTIME } });
    expect(odd.status).toBe('ok');
    expect(odd.values.uptime).toBe('127.0.0.1');
  });

  it('rejects bad OIDs, ports, versions and credentials in its schema', () => {
    const ok = { host: 'sw-1', get: { up: SYS_UPTIME } };
    const bad = (extra: object) => snmpKind.schema.safeParse({ ...ok, ...extra }).success;
    expect(snmpKind.schema.safeParse(ok).success).toBe(true);
    expect(bad({ get: { up: 'sysUpTime.0' } })).toBe(false);
    expect(bad({ get: { up: '1.3.6.1.2.1.1.3.0.' } })).toBe(false);
    expect(bad({ get: { up: '4.3.6' } })).toBe(false);
    expect(bad({ get: { up: '1.3.6.99999999999' } })).toBe(false);
    expect(bad({ get: { 'bad name': SYS_UPTIME } })).toBe(false);
    expect(bad({ get: {} })).toBe(false);
    expect(bad({ port: 0 })).toBe(false);
    expect(bad({ port: 65536 })).toBe(false);
    expect(bad({ version: 2 })).toBe(false);
    expect(bad({ version: '4' })).toBe(false);
    expect(bad({ retries: 9 })).toBe(false);
    expect(bad({ community: '' })).toBe(false);
    expect(bad({ version: '3' })).toBe(false); // no user
    expect(bad({ version: '3', community: 'x', user: { name: 'u', auth_key: '12345678', priv_key: '12345678' } })).toBe(false);
    expect(bad({ version: '3', user: { name: 'u', auth_key: 'short', priv_key: '12345678' } })).toBe(false);
    expect(bad({ version: '3', user: { name: 'u', auth_key: '12345678' } })).toBe(false); // authPriv needs priv_key
    expect(bad({ version: '3', user: { name: 'u', auth_key: '12345678', priv_key: '12345678', priv_protocol: 'rot13' } })).toBe(false);
    expect(bad({ version: '3', user: { name: 'u', auth_key: '12345678', priv_key: '12345678' } })).toBe(true);
    expect(bad({ user: { name: 'u', auth_key: '12345678', priv_key: '12345678' } })).toBe(false); // user with 2c
    expect(bad({ counters: ['nope'] })).toBe(false);
    expect(bad({ walk: { up: IF_DESCR } })).toBe(false); // same name under get and walk
    expect(bad({ oids: [SYS_UPTIME] })).toBe(false);
    const issue = snmpKind.schema.safeParse({ ...ok, get: { up: 'sysUpTime.0' } });
    expect(issue.error?.issues[0]?.message).toContain('must be a numeric OID');
    expect(snmpKind.defaultName(snmpKind.schema.parse(ok) as never)).toBe('snmp:sw-1');
  });
});
