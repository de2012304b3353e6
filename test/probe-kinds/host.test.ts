import { afterEach, describe, expect, it } from 'vitest';
import { hostKind, storageFilter } from '../../src/probe-kinds/host.js';
import { runKind } from './helpers.js';
import { startAgent, type AgentValue, type TestAgent } from './snmp-agent.js';

const HR_UPTIME = '1.3.6.1.2.1.25.1.1.0';
const HR_PROCESSES = '1.3.6.1.2.1.25.1.6.0';
const STORAGE = (column: number, index: number) => `1.3.6.1.2.1.25.2.3.1.${column}.${index}`;
const LOAD = (device: number) => `1.3.6.1.2.1.25.3.3.1.2.${device}`;
const TYPE = { other: '1.3.6.1.2.1.25.2.1.1', ram: '1.3.6.1.2.1.25.2.1.2', virtual: '1.3.6.1.2.1.25.2.1.3', fixedDisk: '1.3.6.1.2.1.25.2.1.4' };

function storage(index: number, type: string, descr: string, units: number, size: number, used: number): Record<string, AgentValue> {
  return {
    [STORAGE(1, index)]: { type: 'Integer', value: index },
    [STORAGE(2, index)]: { type: 'OID', value: type },
    [STORAGE(3, index)]: { type: 'OctetString', value: descr },
    [STORAGE(4, index)]: { type: 'Integer', value: units },
    [STORAGE(5, index)]: { type: 'Integer', value: size },
    [STORAGE(6, index)]: { type: 'Integer', value: used },
  };
}

/** A Linux server as net-snmp's snmpd shows it: RAM with buffers and cache, swap, three disks, two CPUs. */
function serverValues(): Record<string, AgentValue> {
  return {
    [HR_UPTIME]: { type: 'TimeTicks', value: 360_000 },
    [HR_PROCESSES]: { type: 'Gauge32', value: 143 },
    // 8 GB physical memory, 6 GB "used" of which 2 GB are buffers and cache: 50 % really used.
    ...storage(1, TYPE.ram, 'Physical memory', 1024, 8_000_000, 6_000_000),
    ...storage(3, TYPE.virtual, 'Virtual memory', 1024, 10_000_000, 6_500_000),
    ...storage(6, TYPE.other, 'Memory buffers', 1024, 8_000_000, 500_000),
    ...storage(7, TYPE.other, 'Cached memory', 1024, 1_500_000, 1_500_000),
    ...storage(31, TYPE.fixedDisk, '/', 4096, 1_000_000, 450_000),
    ...storage(35, TYPE.fixedDisk, '/boot', 1024, 100_000, 82_000),
    ...storage(36, TYPE.fixedDisk, '/home', 4096, 2_000_000, 500_000),
    [LOAD(196608)]: { type: 'Integer', value: 10 },
    [LOAD(196609)]: { type: 'Integer', value: 30 },
  };
}

const agents: TestAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});
async function server(values: Record<string, AgentValue> = serverValues()): Promise<TestAgent> {
  const a = await startAgent({ community: 'public', values });
  agents.push(a);
  return a;
}

describe('host probe kind', () => {
  it('reports disks, memory without buffers and cache, cpu load, processes and uptime', async () => {
    const a = await server();
    const r = await runKind(hostKind, { host: a.host, port: a.port });
    expect(r.status).toBe('ok');
    expect(r.message).toBe(
      `127.0.0.1:${a.port}: disk /boot 82% (fullest of 3), memory 50%, cpu 20% (2 processors), 143 processes, uptime 3600s`,
    );
    expect(r.values).toMatchObject({
      'storage./.usedPercent': 45,
      'storage./.sizeBytes': 4_096_000_000,
      'storage./.usedBytes': 1_843_200_000,
      'storage./boot.usedPercent': 82,
      'storage./home.usedPercent': 25,
      disks: 3,
      diskUsedPercent: 82,
      diskName: '/boot',
      memoryUsedPercent: 50,
      memorySizeBytes: 8_192_000_000,
      memoryUsedBytes: 4_096_000_000,
      cpuLoadPercent: 20,
      cpus: 2,
      processes: 143,
      uptimeSeconds: 3600,
    });
    // Swap and the buffer/cache rows are not disks.
    expect(Object.keys(r.values).filter((k) => k.startsWith('storage.'))).toHaveLength(9);
  });

  it('reads the same tables over SNMPv1 (GETNEXT walks)', async () => {
    const a = await server();
    const r = await runKind(hostKind, { host: a.host, port: a.port, version: '1' });
    expect(r.status).toBe('ok');
    expect(r.values).toMatchObject({ disks: 3, diskUsedPercent: 82, memoryUsedPercent: 50, cpuLoadPercent: 20, processes: 143 });
  });

  it('fails while a disk is over max_disk_used_percent, saying by how much, and recovers when it is cleaned up', async () => {
    const a = await server();
    const spec = { host: a.host, port: a.port, max_disk_used_percent: 90 };
    expect((await runKind(hostKind, spec)).status).toBe('ok');

    a.set(STORAGE(6, 36), 1_870_000); // /home fills to 93.5 %
    const full = await runKind(hostKind, spec);
    expect(full.status).toBe('fail');
    expect(full.message).toContain(`127.0.0.1:${a.port}: over the limit: disk /home 93.5% (max 90%, 3.5 over) (disk /home 93.5% (fullest of 3)`);
    expect(full.values).toMatchObject({ diskUsedPercent: 93.5, diskName: '/home', 'storage./home.usedPercent': 93.5, cpuLoadPercent: 20 });

    a.set(STORAGE(6, 36), 600_000);
    const cleaned = await runKind(hostKind, spec);
    expect(cleaned.status).toBe('ok');
    expect(cleaned.values).toMatchObject({ diskUsedPercent: 82, diskName: '/boot', 'storage./home.usedPercent': 30 });
  });

  it('fails on a cpu load spike and on memory pressure, naming each limit', async () => {
    const a = await server();
    const spec = { host: a.host, port: a.port, max_cpu_load_percent: 80, max_memory_used_percent: 90 };
    expect((await runKind(hostKind, spec)).status).toBe('ok');

    a.set(LOAD(196608), 100);
    a.set(LOAD(196609), 95);
    a.set(STORAGE(6, 1), 7_880_000); // 7.88 GB used, 2 GB of it buffers and cache: 73.5 %
    const spike = await runKind(hostKind, spec);
    expect(spike.status).toBe('fail');
    expect(spike.message).toContain('over the limit: cpu 97.5% (max 80%, 17.5 over) (');
    expect(spike.values).toMatchObject({ cpuLoadPercent: 97.5, memoryUsedPercent: 73.5 });

    a.set(STORAGE(6, 7), 100_000); // the cache is dropped: 7.28 GB used for real
    const pressure = await runKind(hostKind, spec);
    expect(pressure.status).toBe('fail');
    expect(pressure.message).toContain('over the limit: memory 91% (max 90%, 1 over), cpu 97.5% (max 80%, 17.5 over)');

    a.set(LOAD(196608), 5);
    a.set(LOAD(196609), 5);
    a.set(STORAGE(6, 1), 3_000_000);
    const calm = await runKind(hostKind, spec);
    expect(calm.status).toBe('ok');
    expect(calm.values).toMatchObject({ cpuLoadPercent: 5, memoryUsedPercent: 30 });
  });

  it('leaves out excluded disks, and checks only the included ones', async () => {
    const a = await server();
    a.set(STORAGE(6, 35), 99_000); // /boot at 99 %
    const all = await runKind(hostKind, { host: a.host, port: a.port, max_disk_used_percent: 90 });
    expect(all.status).toBe('fail');
    expect(all.message).toContain('disk /boot 99% (max 90%, 9 over)');

    const noBoot = await runKind(hostKind, { host: a.host, port: a.port, max_disk_used_percent: 90, storages: ['!/boot*'] });
    expect(noBoot.status).toBe('ok');
    expect(noBoot.values).toMatchObject({ disks: 2, diskName: '/', diskUsedPercent: 45 });
    expect(noBoot.values['storage./boot.usedPercent']).toBeUndefined();

    const onlyHome = await runKind(hostKind, { host: a.host, port: a.port, storages: ['/home'] });
    expect(onlyHome.values).toMatchObject({ disks: 1, diskName: '/home', diskUsedPercent: 25 });
    expect(onlyHome.values['storage./.usedPercent']).toBeUndefined();

    const none = await runKind(hostKind, { host: a.host, port: a.port, storages: ['/srv*'] });
    expect(none.status).toBe('fail');
    expect(none.message).toContain('no fixed disk matches storages ["/srv*"]; fixed disks on the agent: /, /boot, /home');
  });

  it('matches storages exactly or by glob, with ! to exclude', () => {
    const onlyData = storageFilter(['/data*', '!/data/tmp']);
    expect(onlyData('/data')).toBe(true);
    expect(onlyData('/data/archive')).toBe(true);
    expect(onlyData('/data/tmp')).toBe(false);
    expect(onlyData('/')).toBe(false);
    const windows = storageFilter(['C:\\*']);
    expect(windows('C:\\ Label:System  Serial Number 1a2b3c4d')).toBe(true);
    expect(windows('D:\\ Label:Data')).toBe(false);
    expect(storageFilter(['/var/log.?'])('/var/log.1')).toBe(true);
    expect(storageFilter(['/var/log.?'])('/var/logs1')).toBe(false);
    expect(storageFilter(undefined)('/anything')).toBe(true);
  });

  it('fails naming the OID when the agent has no hrStorageTable, and still reports the cpu', async () => {
    const a = await server({
      [HR_UPTIME]: { type: 'TimeTicks', value: 100 },
      [LOAD(1)]: { type: 'Integer', value: 42 },
    });
    const r = await runKind(hostKind, { host: a.host, port: a.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain(`127.0.0.1:${a.port}: no hrStorageTable (1.3.6.1.2.1.25.2.3.1) on the agent`);
    expect(r.values).toMatchObject({ cpuLoadPercent: 42, cpus: 1, uptimeSeconds: 1 });
  });

  it('fails when a threshold needs a table the agent lacks, and is ok without the threshold', async () => {
    const values = serverValues();
    delete values[LOAD(196608)];
    delete values[LOAD(196609)];
    const a = await server(values);
    expect((await runKind(hostKind, { host: a.host, port: a.port })).status).toBe('ok');
    const r = await runKind(hostKind, { host: a.host, port: a.port, max_cpu_load_percent: 90 });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('no hrProcessorLoad (1.3.6.1.2.1.25.3.3.1.2) on the agent, needed for max_cpu_load_percent');
    expect(r.values.cpuLoadPercent).toBeUndefined();
    expect(r.values.diskUsedPercent).toBe(82);
  });

  it('fails with a clear message when the agent sends unexpected types', async () => {
    const a = await server();
    a.set(STORAGE(6, 31), { type: 'OctetString', value: 'lots' });
    const r = await runKind(hostKind, { host: a.host, port: a.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain(`hrStorageUsed (${STORAGE(6, 31)}) is OctetString, expected an integer`);

    a.set(STORAGE(6, 31), { type: 'Integer', value: 1 });
    a.set(STORAGE(2, 31), { type: 'Integer', value: 4 });
    const typed = await runKind(hostKind, { host: a.host, port: a.port });
    expect(typed.status).toBe('fail');
    expect(typed.message).toContain(`hrStorageType (${STORAGE(2, 31)}) is Integer, expected an OBJECT IDENTIFIER`);
  });

  it('fails with "wrong community or host down?" when the server ignores the community', async () => {
    const a = await server();
    const r = await runKind(hostKind, { host: a.host, port: a.port, community: 'private' }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('(wrong community or host down?)');
  });

  it('rejects bad fields in its schema', () => {
    const ok = (spec: unknown) => hostKind.schema.safeParse(spec).success;
    expect(ok({ host: 's1', max_disk_used_percent: 90, max_memory_used_percent: 95.5, max_cpu_load_percent: 0, storages: ['!/boot'] })).toBe(true);
    expect(ok({ host: 's1', max_disk_used_percent: 101 })).toBe(false);
    expect(ok({ host: 's1', max_cpu_load_percent: -1 })).toBe(false);
    expect(ok({ host: 's1', max_memory_used_percent: '90%' })).toBe(false);
    expect(ok({ host: 's1', storages: [] })).toBe(false);
    expect(ok({ host: 's1', storages: ['!'] })).toBe(false);
    expect(ok({ host: 's1', storages: '/boot' })).toBe(false);
    expect(ok({ host: 's1', storages: [''] })).toBe(false);
    expect(ok({ host: 's1', max_load: 3 })).toBe(false);
    expect(ok({ host: 's1', version: '3' })).toBe(false);
    expect(ok({ host: '' })).toBe(false);
    expect(hostKind.defaultName(hostKind.schema.parse({ host: 's1' }) as never)).toBe('host:s1');
  });
});
