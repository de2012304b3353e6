// A start that fails half-way: a real listener holds the HTTP port (or a real UDP socket the SNMP
// trap port), and what createApp had opened before (the intake journal's lock, the SQLite file, the
// API's port) must be given back, so the same data directory starts again in this same process.
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { ChannelConfigError } from '../../src/notify/types.js';
import { SnmpTrapListenError } from '../../src/sources/snmp-trap.js';

let dir: string;
let app: App | null = null;
const held: (Server | Socket)[] = [];

function paths() {
  return { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') };
}

function writeConfig(extra: string): void {
  writeFileSync(paths().config, `store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }\n${extra}`);
}

function start(port?: number): Promise<App> {
  return createApp({ paths: paths(), clock: new SystemClock(), logger: silentLogger(), env: {}, watch: false, ...(port === undefined ? {} : { port }) });
}

async function holdTcp(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  held.push(server);
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}

async function holdUdp(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  held.push(socket);
  return { socket, port: socket.address().port };
}

async function release(thing: Server | Socket): Promise<void> {
  held.splice(held.indexOf(thing), 1);
  await new Promise<void>((resolve) => thing.close(() => resolve()));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-rollback-'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
});

afterEach(async () => {
  await app?.stop();
  app = null;
  for (const h of [...held]) await release(h);
  rmSync(dir, { recursive: true, force: true });
});

describe('a start that fails half-way', () => {
  it('raises the port-taken error and gives back the journal lock and the SQLite file: the same data dir starts again', async () => {
    const { port } = await holdTcp();
    writeConfig(`listen: { host: 127.0.0.1, port: ${port} }\n`);
    await expect(start()).rejects.toMatchObject({ code: 'EADDRINUSE' });

    // Before the rollback existed this failed: "another incidentd (pid <this one>) holds the intake journal".
    app = await start(0);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('when the SNMP trap port is taken, the API it had already opened is closed again', async () => {
    const { server: probe, port: apiPort } = await holdTcp();
    await release(probe); // a free port for the API, known in advance
    const { socket: trapHolder, port: trapPort } = await holdUdp();
    writeConfig(`listen: { host: 127.0.0.1, port: ${apiPort} }\nsnmp_traps: { enabled: true, host: 127.0.0.1, port: ${trapPort}, communities: [rollback] }\n`);
    await expect(start()).rejects.toBeInstanceOf(SnmpTrapListenError);

    // The API's port is free again (before the rollback it kept listening, answering for nobody).
    const again = await holdTcp(apiPort);
    await release(again.server);
    await release(trapHolder);
    app = await start();
    expect(app.url).toBe(`http://127.0.0.1:${apiPort}`);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('a channel that cannot be built (its template does not parse) stops the start, and the journal and store are given back', async () => {
    // A missing file is refused with the configuration (validate checks paths); a template that
    // does not parse is found only when the channel is built, after the store and journal opened.
    mkdirSync(join(dir, 'mail'));
    writeFileSync(join(dir, 'mail', 'subject.mustache'), '{{#incident}} never closed\n');
    const channel = `channels:
  - id: helpdesk
    type: email
    smtp: { host: smtp.example.invalid }
    templates_dir: ${join(dir, 'mail')}
    from: incidentd@example.org
    to: [helpdesk@example.org]
    domain: incidentd.example.org
`;
    writeConfig(channel);
    await expect(start(0)).rejects.toBeInstanceOf(ChannelConfigError);

    writeConfig('');
    app = await start(0);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  });
});
