// Which target a trap lands on (issue 13): the sender's address against targets' trap_sources and
// the addresses their checks' hosts resolve to (real DNS for `localhost`, `.invalid` for names that
// must not resolve), and through the running daemon with a real trap sent by net-snmp.
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { TrapTargets, type HostLookup } from '../../src/app/trap-targets.js';
import type { CheckConfig, TargetConfig } from '../../src/config-core/types.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

function targetWith(id: string, hosts: string[], trapSources: string[] = []): TargetConfig {
  const checks: CheckConfig[] = hosts.map((host, i) => ({ name: `tcp-${i}`, type: 'tcp', intervalMs: 60_000, timeoutMs: 1000, spec: { host, port: 9 } }));
  return { id, kind: 'printer', name: id, site: '', labels: {}, dependsOn: [], tenant: 'default', trapSources, checks, file: '/etc/incidentd/probes/printers.yaml' };
}

describe('TrapTargets', () => {
  it('matches IP literals, resolved host names and trap_sources; trap_sources win', async () => {
    const index = new TrapTargets(silentLogger());
    await index.update([
      targetWith('by-name', ['localhost']),
      targetWith('by-literal', ['203.0.113.40']),
      targetWith('nat', ['192.0.2.10'], ['203.0.113.41', '::ffff:203.0.113.42']),
      targetWith('claims-literal', [], ['203.0.113.40']),
    ]);
    expect(index.targetFor('127.0.0.1')).toBe('by-name');
    expect(index.targetFor('::ffff:127.0.0.1')).toBe('by-name');
    expect(index.targetFor('203.0.113.41')).toBe('nat');
    expect(index.targetFor('203.0.113.42')).toBe('nat');
    expect(index.targetFor('192.0.2.10')).toBe('nat');
    // An explicit trap_sources entry beats an address another target's check merely uses.
    expect(index.targetFor('203.0.113.40')).toBe('claims-literal');
    expect(index.targetFor('203.0.113.99')).toBeUndefined();
  });

  it('a name that does not resolve matches nothing and breaks nothing; one that stops resolving keeps its addresses', async () => {
    const index = new TrapTargets(silentLogger());
    await index.update([targetWith('gone', ['printer-9.invalid']), targetWith('lit', ['198.51.100.1'])]);
    expect(index.targetFor('198.51.100.1')).toBe('lit');

    let dnsUp = true;
    const lookup: HostLookup = async (host) => {
      if (!dnsUp) throw new Error(`getaddrinfo EAI_AGAIN ${host}`);
      return host === 'prn.example.test' ? ['198.51.100.5'] : [];
    };
    const cached = new TrapTargets(silentLogger(), lookup);
    await cached.update([targetWith('prn', ['prn.example.test'])]);
    expect(cached.targetFor('198.51.100.5')).toBe('prn');
    dnsUp = false;
    await cached.update([targetWith('prn', ['prn.example.test'])]);
    expect(cached.targetFor('198.51.100.5')).toBe('prn');
  });
});

describe('a trap from a target configured by host name, in the running daemon', () => {
  let dir: string | null = null;
  let app: App | null = null;
  afterEach(async () => {
    await app?.stop();
    app = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('lands on that target, not on one named after the address', async () => {
    dir = mkdtempSync(join(tmpdir(), 'incidentd-trap-targets-'));
    const trapPort = await new Promise<number>((resolve) => {
      const sock = createSocket('udp4');
      sock.bind(0, '127.0.0.1', () => {
        const p = sock.address().port;
        sock.close(() => resolve(p));
      });
    });
    mkdirSync(join(dir, 'probes'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(
      join(dir, 'incidentd.yaml'),
      `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: t, token: trap-targets } ] }
snmp_traps: { enabled: true, port: ${trapPort}, communities: [tt-traps] }
`,
    );
    writeFileSync(
      join(dir, 'probes', 'printers.yaml'),
      `targets:
  - id: printer-2og
    kind: printer
    name: Printer 2OG
    checks:
      - { type: tcp, name: jetdirect, host: localhost, port: 9, interval: 1h, timeout: 200ms }
`,
    );
    writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
    app = await createApp({
      paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
      clock: new SystemClock(),
      logger: silentLogger(),
      env: {},
      watch: false,
      port: 0,
    });
    const snmp = createRequire(import.meta.url)('net-snmp');
    const session = snmp.createSession('127.0.0.1', 'tt-traps', { trapPort, version: snmp.Version2c });
    try {
      await new Promise<void>((resolve, reject) => session.trap(snmp.TrapType.LinkDown, [], {}, (err: Error | null) => (err ? reject(err) : resolve())));
    } finally {
      session.close();
    }
    let found: { target: { id: string } } | undefined;
    for (let i = 0; i < 160 && !found; i++) {
      const res = await fetch(`${app.url}/api/v1/incidents?status=open`, { headers: { authorization: 'Bearer trap-targets' } });
      const items = ((await res.json()) as { items: { check: { name: string }; target: { id: string } }[] }).items;
      found = items.find((i) => i.check.name === 'linkDown');
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    expect(found).toMatchObject({ target: { id: 'printer-2og', name: 'Printer 2OG', kind: 'printer' } });
  });
});
