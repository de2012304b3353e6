// `incidentd demo`: simulated devices on loopback (an access point and a printer as SNMP agents, a
// mail server with SMTP and IMAP), a throw-away configuration pointed at them, the real daemon,
// and a scenario that breaks and repairs the devices on a timer, so a newcomer watches incidents
// open, repeat, resolve and reopen, and can follow along with curl.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createApp, type App } from '../app/app.js';
import type { ConfigPaths } from '../config/load.js';
import type { Incident } from '../domain/incident.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { formatDuration } from '../shared/duration.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { startImapServer, startSmtpServer, type MailServer } from './mail-server.js';
import { startAccessPoint, startPrinter, type SimulatedAccessPoint, type SimulatedPrinter } from './snmp-device.js';

export interface DemoOptions {
  /** Folder for the generated config, probes, rules and database. Default: a new temp folder, removed by stop(). */
  dir?: string | undefined;
  /** API port. Default: a free one. */
  port?: number | undefined;
  /** Time-lapse factor: 2 runs probes and scenario twice as fast. Default 1. */
  speed?: number;
  /** The daemon's logger. */
  logger: Logger;
  clock: Clock;
  /** Where the friendly scenario lines go. Default: stdout. */
  print?: (line: string) => void;
  /** Folder of the rule files shipped with incidentd, copied into the demo. Default: found next to the package. */
  shippedRules?: string;
}

export interface Demo {
  /** Base URL of the API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Bearer token for /api/. */
  token: string;
  /** Folder holding the demo's config/, probes/, rules/ and data/. */
  dir: string;
  /** Stops the scenario, the daemon and the simulators; removes the folder if the demo created it. */
  stop(): Promise<void>;
}

/** The demo could not start; the message says why and what to do. */
export class DemoError extends IncidentdError {}

interface Devices {
  ap: SimulatedAccessPoint;
  printer: SimulatedPrinter;
  smtp: MailServer;
  imap: MailServer;
}

interface Step {
  /** Offset into the cycle, in ms at speed 1. */
  at: number;
  say: string;
  act(d: Devices): void;
}

/** Probe interval and timeout at speed 1. */
const PROBE_INTERVAL_MS = 2_000;
const PROBE_TIMEOUT_MS = 1_500;
/** How often the demo looks for incident changes to announce, at speed 1. */
const WATCH_INTERVAL_MS = 1_000;
/** The scenario starts over after this long, at speed 1; recurring problems then reopen their incidents. */
const CYCLE_MS = 90_000;

/** One cycle of the scenario: each device breaks, then is repaired, one after the other. */
export const SCENARIO: readonly Step[] = [
  {
    at: 5_000,
    say: 'breaking: the printer toner drops to 6 % — watch a minor incident open (rule printer-supplies-low)',
    act: (d) => d.printer.setToner(6),
  },
  {
    at: 15_000,
    say: 'breaking: the printer jams on top of its low toner — watch a second, medium incident open (rule printer-jammed); the toner incident stays open',
    act: (d) => d.printer.setJammed(true),
  },
  {
    at: 30_000,
    say: 'repairing: someone clears the paper jam — watch only the jam incident resolve: the toner is still low',
    act: (d) => {
      d.printer.setJammed(false);
      d.printer.print(23);
    },
  },
  {
    at: 38_000,
    say: 'repairing: a new toner cartridge goes into the printer — watch the toner incident resolve',
    act: (d) => d.printer.setToner(100),
  },
  {
    at: 45_000,
    say: 'breaking: the 5 GHz radio of the access point goes down — watch a severe incident open (rule wifi-ap-radio-down)',
    act: (d) => d.ap.setRadioUp(2, false),
  },
  {
    at: 60_000,
    say: 'repairing: the radio comes back up — watch its incident resolve after 2 good checks',
    act: (d) => d.ap.setRadioUp(2, true),
  },
  {
    at: 65_000,
    say: 'breaking: the mail server stops accepting sessions (SMTP and IMAP) — watch one severe incident open for both (rule demo-mail-down)',
    act: (d) => {
      d.smtp.setDown(true);
      d.imap.setDown(true);
    },
  },
  {
    at: 80_000,
    say: 'repairing: the mail server is back — watch its incident resolve',
    act: (d) => {
      d.smtp.setDown(false);
      d.imap.setDown(false);
    },
  },
];

/** Rules added to the shipped ones, in a file that sorts first so they win for the demo devices. */
const DEMO_RULES = {
  rules: [
    {
      id: 'demo-mail-down',
      when: 'target.kind == "mail"',
      classify: { category: 'service.mail', severity: 'severe', impact: 'organisation', tier: 'L2' },
      title: '{{target.name}} refuses sessions',
      description: '{{check.name}}: {{message}}',
      runbook: 'Check the mail server process and its queue; tell users by phone or chat that mail is delayed.',
      // One incident for SMTP and IMAP together: it resolves when both answer again.
      dedup_by: ['target.id', 'rule.id'],
      open_after: 2,
      resolve_after: 2,
    },
  ],
};

/** Walks up from this module to the folder holding incidentd's package.json and shipped rules/. */
export function findShippedRules(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'rules'))) return path.join(dir, 'rules');
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new DemoError('cannot find the rules/ folder shipped with incidentd next to its package.json; reinstall incidentd or pass the folder');
    dir = parent;
  }
}

/** A free TCP port on 127.0.0.1: bound once and released, so the config file can name it. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startDevices(clock: Clock): Promise<Devices> {
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(x: T): T => {
    started.push(x);
    return x;
  };
  try {
    return {
      ap: track(await startAccessPoint({ clock, vendor: 'ubiquiti' })),
      printer: track(await startPrinter()),
      smtp: track(await startSmtpServer()),
      imap: track(await startImapServer()),
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw new DemoError(`could not start the simulated devices on 127.0.0.1: ${(err as Error).message}`, { cause: err });
  }
}

function probeFile(d: Devices, speed: number) {
  const snmp = (dev: { host: string; port: number; community: string }) => ({ host: dev.host, port: dev.port, community: dev.community });
  return {
    defaults: {
      interval: formatDuration(scaled(PROBE_INTERVAL_MS, speed)),
      timeout: formatDuration(scaled(PROBE_TIMEOUT_MS, speed)),
    },
    targets: [
      {
        id: 'demo-ap',
        kind: 'wifi-ap',
        name: '2nd floor',
        site: 'demo-office',
        checks: [{ type: 'wifi-ap', name: 'snmp', ...snmp(d.ap), vendor: d.ap.vendor }],
      },
      {
        id: 'demo-printer',
        kind: 'printer',
        name: 'Accounting printer',
        site: 'demo-office',
        checks: [{ type: 'printer', name: 'snmp', ...snmp(d.printer) }],
      },
      {
        id: 'demo-mail',
        kind: 'mail',
        name: 'Mail server',
        site: 'demo-office',
        checks: [
          { type: 'smtp', name: 'smtp', host: '127.0.0.1', port: d.smtp.port, ehlo_name: 'incidentd-demo' },
          { type: 'imap', name: 'imap', host: '127.0.0.1', port: d.imap.port },
        ],
      },
    ],
  };
}

function scaled(ms: number, speed: number): number {
  return Math.max(1, Math.round(ms / speed));
}

async function writeFiles(dir: string, d: Devices, o: { port: number; token: string; speed: number; shippedRules: string }): Promise<ConfigPaths> {
  const paths: ConfigPaths = {
    config: path.join(dir, 'config', 'incidentd.yaml'),
    probesDir: path.join(dir, 'probes'),
    rulesDir: path.join(dir, 'rules'),
  };
  for (const sub of ['config', 'probes', 'rules', 'data']) await mkdir(path.join(dir, sub), { recursive: true });
  const header = '# Written by `incidentd demo`; the simulated devices and this folder go away when the demo stops.\n';
  await writeFile(
    paths.config,
    header +
      stringify({
        listen: { host: '127.0.0.1', port: o.port },
        store: { type: 'sqlite', path: path.join(dir, 'data', 'incidentd.db') },
        api: { tokens: [{ name: 'demo', token: o.token }] },
        incidents: {
          reopen_window: '1h',
          // The scenario repeats every cycle; a window shorter than a cycle keeps it from counting as flapping.
          flapping: { window: formatDuration(scaled(CYCLE_MS / 2, o.speed)), threshold: 6 },
        },
        scheduler: { concurrency: 8, jitter: 0.2 },
      }),
  );
  await writeFile(path.join(paths.probesDir, 'demo.yaml'), header + stringify(probeFile(d, o.speed)));
  for (const f of await readdir(o.shippedRules)) {
    if (f.endsWith('.yaml') || f.endsWith('.yml')) await copyFile(path.join(o.shippedRules, f), path.join(paths.rulesDir, f));
  }
  await writeFile(path.join(paths.rulesDir, '00-demo.yaml'), header + stringify(DEMO_RULES));
  return paths;
}

function describeIncident(i: Incident): string {
  return `${i.number} "${i.title}" (${i.severity}, ${i.priority}, tier ${i.tier})`;
}

/**
 * Announces incidents that opened, reopened or resolved since the last look, by reading the
 * store the way the API does.
 */
function watchIncidents(app: App, clock: Clock, everyMs: number, print: (line: string) => void, logger: Logger) {
  const seen = new Map<string, { status: string; reopenCount: number }>();
  let timer: TimerHandle | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const look = async () => {
    const page = await app.store.list({}, 100);
    for (const i of [...page.items].reverse()) {
      const before = seen.get(i.number);
      seen.set(i.number, { status: i.status, reopenCount: i.reopenCount });
      if (!before) {
        if (i.status === 'open') print(`  ↳ ${describeIncident(i)} opened: ${i.lastMessage}`);
        continue;
      }
      if (i.reopenCount > before.reopenCount && i.status === 'open')
        print(`  ↳ ${i.number} reopened: the same problem is back within the reopen window (occurrence ${i.occurrences})`);
      else if (before.status !== 'resolved' && i.status === 'resolved')
        print(`  ↳ ${i.number} resolved by itself after ${i.occurrences} failing check${i.occurrences === 1 ? '' : 's'}`);
    }
  };
  const tick = () => {
    running = look()
      .catch((err: unknown) => logger.warn({ err }, 'demo: could not read incidents'))
      .then(() => {
        if (!stopped) timer = clock.setTimeout(tick, everyMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}

/** Starts the simulators, writes the demo config, starts the daemon and the scenario. */
export async function runDemo(opts: DemoOptions): Promise<Demo> {
  const { clock, logger } = opts;
  const speed = opts.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0) throw new DemoError(`speed must be a number above 0, not ${speed}`);
  const print = opts.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const shippedRules = opts.shippedRules ?? findShippedRules();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'incidentd-demo-')));
  const token = `demo-${randomBytes(12).toString('hex')}`;

  const devices = await startDevices(clock);
  const stopDevices = () => Promise.all(Object.values(devices).map((x: { stop(): Promise<void> }) => x.stop()));
  let app: App;
  try {
    const port = opts.port ?? (await freeTcpPort());
    const paths = await writeFiles(dir, devices, { port, token, speed, shippedRules });
    // An empty environment: MONGODB_URI of the shell must not send the demo's incidents to a real database.
    app = await createApp({ paths, clock, logger, env: {}, port });
  } catch (err) {
    await stopDevices();
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const cycleMs = scaled(CYCLE_MS, speed);
  const timers = new Set<TimerHandle>();
  let cycle = 0;
  const schedule = (fn: () => void, ms: number) => {
    const t = clock.setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const startCycle = () => {
    cycle++;
    if (cycle > 1) print(`— the scenario starts over (round ${cycle}): recurring problems reopen their incidents —`);
    for (const step of SCENARIO) {
      schedule(() => {
        print(`${step.say}`);
        step.act(devices);
      }, scaled(step.at, speed));
    }
    schedule(startCycle, cycleMs);
  };
  const watcher = watchIncidents(app, clock, scaled(WATCH_INTERVAL_MS, speed), print, logger);

  const curl = `curl -s -H "Authorization: Bearer ${token}"`;
  print(`incidentd demo${speed === 1 ? '' : ` at ${speed}× speed`}: an access point and a printer (SNMP on 127.0.0.1:${devices.ap.port} and :${devices.printer.port}), a mail server (SMTP :${devices.smtp.port}, IMAP :${devices.imap.port})`);
  print(`API ${app.url}   token ${token}`);
  print(`  ${curl} '${app.url}/api/v1/incidents?status=open'`);
  print(`  ${curl} ${app.url}/api/v1/incidents/INC-000001`);
  print(`  curl -s ${app.url}/metrics | grep incidentd_incidents`);
  print(`config, probes and rules in ${dir} (edit them: the daemon reloads); Ctrl-C stops the demo`);
  print(`every device is healthy; the first one breaks in ${formatDuration(scaled(SCENARIO[0]!.at, speed))}`);
  startCycle();

  let stopping: Promise<void> | undefined;
  return {
    url: app.url,
    token,
    dir,
    stop() {
      stopping ??= (async () => {
        for (const t of timers) t.cancel();
        timers.clear();
        await watcher.stop();
        await app.stop();
        await stopDevices();
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
