// The portal end to end: the portal built by Vite into a temp folder, the real daemon (createApp)
// on loopback over a temp SQLite file and a config with two tenants, and Debian's Chromium driven
// by playwright-core. No browser is ever downloaded: without /usr/bin/chromium the tests skip.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Accounts } from '../../src/api/accounts.js';
import type { TenantScope, UserRole } from '../../src/domain/principal.js';
import { SMTPServer } from 'smtp-server';
import { build } from 'vite';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { parseMail, type ParsedMail } from '../notify/mime.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'portal');

export const API_TOKEN = 'portal-e2e-read-7c41d9';
export const ACME_SOURCE_TOKEN = 'acme-alerts-5f2b8e1a9c3d';
export const GLOBEX_SOURCE_TOKEN = 'globex-alerts-8d4c2a7e6b1f';

/** Debian's chromium (installed by .ci/run); null when this machine has none. */
export function chromiumPath(): string | null {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p !== undefined && p !== '' && existsSync(p)) return p;
  }
  return null;
}

/** Builds the portal with its own Vite config into a new temp folder. */
export async function buildPortal(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'incidentd-portal-build-'));
  await build({ configFile: join(ROOT, 'portal', 'vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'error' });
  return outDir;
}

export const PASSWORD = 'portal e2e password 4711';

/** The people of the e2e daemon; every one signs in with PASSWORD. */
export const PEOPLE: Record<string, { roles: UserRole[]; tenants: TenantScope; email: string; displayName: string }> = {
  anna: { roles: ['agent'], tenants: { all: false, tenants: ['acme'] }, email: 'anna@acme.invalid', displayName: 'Anna Agent' },
  erik: { roles: ['engineer'], tenants: { all: false, tenants: ['acme'] }, email: 'erik@acme.invalid', displayName: 'Erik Engineer' },
  rita: { roles: ['reporter'], tenants: { all: false, tenants: ['acme'] }, email: 'rita@acme.invalid', displayName: 'Rita Reporter' },
  mona: { roles: ['manager'], tenants: { all: true }, email: 'mona@msp.invalid', displayName: 'Mona Manager' },
  max: { roles: ['manager'], tenants: { all: false, tenants: ['acme'] }, email: 'max@acme.invalid', displayName: 'Max Manager' },
  gustav: { roles: ['agent'], tenants: { all: false, tenants: ['globex'] }, email: 'gustav@globex.invalid', displayName: 'Gustav Globex' },
  ada: { roles: ['admin'], tenants: { all: true }, email: 'ada@msp.invalid', displayName: 'Ada Admin' },
};

/** A mail the daemon handed to the test's SMTP server. */
export interface CaughtMail {
  from: string;
  to: string[];
  mail: ParsedMail;
}

export interface DaemonOptions {
  /**
   * A real SMTP server on loopback, and an email channel to it with audience subscribers named in
   * communication.channels: what the people of an incident hear by mail lands in `mails`.
   */
  smtp?: boolean;
  /** More of acme's targets, as YAML list items indented by two spaces (`  - id: …`). */
  acmeTargets?: string;
  /** More top-level sections of incidentd.yaml (e.g. `maintenance:`). */
  config?: string;
}

export interface Daemon {
  app: App;
  url: string;
  dir: string;
  /** The mails the SMTP server received (with `smtp: true`), in the order they came. */
  mails: CaughtMail[];
  /** POST /api/v1/alerts as acme's alert source. */
  alert(body: unknown): Promise<Response>;
  /** POST /api/v1/alerts as globex's alert source. */
  globexAlert(body: unknown): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * Two tenants: acme (public status page, Europe/Berlin) with two services at two sites and an alert
 * source, and globex (private) with one. The checks probe a closed port on loopback (down) and the
 * daemon's own /healthz (up), so the service states are real.
 */
export async function startDaemon(portalRoot: string, opts: DaemonOptions = {}): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-portal-e2e-'));
  const mails: CaughtMail[] = [];
  const smtp = opts.smtp === true ? await smtpServer(mails) : null;
  const mailConfig =
    smtp === null
      ? ''
      : `channels:
  - id: people-mail
    type: email
    audience: subscribers
    smtp: { host: 127.0.0.1, port: ${smtp.port}, starttls: false }
    from: it-service@acme.invalid
    domain: incidentd.e2e.invalid
communication:
  channels: [people-mail]
`;
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(
    join(dir, 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: reader, token: "${API_TOKEN}", role: read } ] }
tenants:
  - id: acme
    name: ACME Corp
    time_zone: Europe/Berlin
    status_page: public
  - id: globex
    name: Globex Industries
    status_page: private
sources:
  - id: acme-alerts
    type: generic
    tenant: acme
    tokens: ["${ACME_SOURCE_TOKEN}"]
  - id: globex-alerts
    type: generic
    tenant: globex
    tokens: ["${GLOBEX_SOURCE_TOKEN}"]
${mailConfig}${opts.config ?? ''}`,
  );
  writeFileSync(
    join(dir, 'probes', 'acme.yaml'),
    `tenant: acme
defaults: { interval: 200ms, timeout: 150ms }
targets:
  - id: mail
    name: Mail service
    kind: mail
    site: Headquarters
    checks:
      - { type: tcp, name: smtp, host: 127.0.0.1, port: 1 }
  - id: printer-3f
    name: Printer 3rd floor
    kind: printer
    site: Branch Munich
    checks: []
${opts.acmeTargets ?? ''}`,
  );
  writeFileSync(
    join(dir, 'probes', 'globex.yaml'),
    `tenant: globex
targets:
  - id: globex-vpn
    name: Globex VPN gateway
    site: Head office
    checks: []
`,
  );
  writeFileSync(
    join(dir, 'rules', 'portal.yaml'),
    `rules:
  - id: printer-jam
    when: 'check.name == "PrinterJam"'
    classify: { category: printing, severity: medium, impact: multiple-users, tier: L1 }
    title: "{{target.name}} has a paper jam"
  - id: vpn-down
    when: 'check.name == "VpnTunnelDown"'
    classify: { category: vpn-tunnel, severity: major, impact: site, tier: L2 }
    title: "{{target.name}}: a VPN tunnel is down"
  - id: report-printer
    when: 'source == "report" && labels.category == "printer"'
    classify: { category: report.printer, severity: minor, impact: single-user, tier: L1 }
    title: "{{target.name}}: printing problem reported"
    hint: Check the printer's display for a paper jam or an open door, and whether it has paper.
    dedup_by: [target.id, check.name]
  - id: mail-down
    when: 'check.type == "tcp"'
    classify: { category: mail, severity: severe, impact: organisation, tier: L2 }
    title: "{{target.name}} cannot be reached"
    open_after: 100000
`,
  );
  const app = await createApp({
    paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
    clock: new SystemClock(),
    logger: silentLogger(),
    env: { PATH: process.env.PATH ?? '' },
    watch: false,
    port: 0,
    portalRoot,
  });
  const accounts = new Accounts(app.store, new SystemClock());
  for (const [name, p] of Object.entries(PEOPLE)) {
    await accounts.add({ name, password: PASSWORD, ...p }, { name: 'e2e setup', address: '127.0.0.1' });
  }
  return {
    app,
    url: app.url,
    dir,
    mails,
    alert: (body) => postAlert(app.url, ACME_SOURCE_TOKEN, body),
    globexAlert: (body) => postAlert(app.url, GLOBEX_SOURCE_TOKEN, body),
    stop: async () => {
      await app.stop();
      if (smtp !== null) await new Promise<void>((done) => smtp.server.close(() => done()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A real SMTP server on 127.0.0.1 that takes every mail (no TLS, no AUTH) and keeps it. */
async function smtpServer(into: CaughtMail[]): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    hideSTARTTLS: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        into.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          mail: parseMail(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return { server, port: (server.server.address() as AddressInfo).port };
}

function postAlert(url: string, token: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function launch(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A fresh browser profile: its own localStorage, language and screen. */
export async function newContext(browser: Browser, opts: { locale: string; width?: number }): Promise<BrowserContext> {
  return browser.newContext({
    locale: opts.locale,
    timezoneId: 'America/New_York',
    viewport: { width: opts.width ?? 1024, height: 800 },
  });
}

/** axe-core's violations of impact serious or critical on the page as it is now. */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  await page.addScriptTag({ path: join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
  // A string: the test code is type-checked without the DOM library.
  const result = await page.evaluate<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }>(
    "axe.run(document, { resultTypes: ['violations'] })",
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Signs the browser profile in as one of PEOPLE through the API (the cookie lands in the
 * context's jar, as after the sign-in page).
 */
export async function signIn(context: BrowserContext, url: string, name: string): Promise<void> {
  const res = await context.request.post(`${url}/api/v1/session`, { data: { name, password: PASSWORD } });
  if (res.status() !== 201) throw new Error(`sign-in as ${name} answered ${res.status()}: ${await res.text()}`);
}
