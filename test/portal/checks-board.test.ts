// The checks board in a real browser against the real daemon: anna (acme agent) sees acme's checks
// grouped by site with their states in words, the latency history after a few runs, a silenced
// target marked "Silenced" and a target in maintenance "In maintenance"; gustav (globex) sees none
// of acme's; German labels; a 375 px phone screen; axe-core finds no serious problems.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPortal, chromiumPath, launch, newContext, PASSWORD, screenshot, seriousViolations, signIn, startDaemon, type Daemon } from './harness.js';

const CHROMIUM = chromiumPath();
if (CHROMIUM === null) console.warn('portal browser tests skipped: no Chromium; install it with `apt-get install chromium`');

describe.skipIf(CHROMIUM === null)('the checks board in Chromium', () => {
  let portalRoot: string;
  let daemon: Daemon;
  let browser: Browser;
  // An open port on loopback for an acme check that is up.
  let door: Server;

  beforeAll(async () => {
    door = createServer((socket) => socket.end());
    await new Promise<void>((ok) => door.listen(0, '127.0.0.1', ok));
    const port = (door.address() as { port: number }).port;
    portalRoot = await buildPortal();
    daemon = await startDaemon(portalRoot, {
      acmeTargets: `  - id: door-panel
    name: Door panel
    kind: server
    site: Branch Munich
    checks:
      - { type: tcp, name: door-api, host: 127.0.0.1, port: ${String(port)} }
`,
      config: `maintenance:
  - id: door-firmware
    reason: firmware upgrade of the door panels
    start: "2026-01-01T00:00:00Z"
    end: "2099-01-01T00:00:00Z"
    match: { targets: ["door-*"] }
`,
    });
    browser = await launch(CHROMIUM!);
    // erik (acme engineer) silences the mail target through the API, as from the portal.
    const session = await fetch(`${daemon.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'erik', password: PASSWORD }),
    });
    expect(session.status).toBe(201);
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const cookie = session.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const silence = await fetch(`${daemon.url}/api/v1/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ matchers: ['target=mail'], duration: '2h', comment: 'mail server is being moved' }),
    });
    expect(silence.status, await silence.clone().text()).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await new Promise<void>((ok) => (door ? door.close(() => ok()) : ok()));
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function openAs(name: string, locale: string, width?: number): Promise<Page> {
    const context = await newContext(browser, { locale, ...(width === undefined ? {} : { width }) });
    await signIn(context, daemon.url, name);
    const page = await context.newPage();
    await page.goto(`${daemon.url}/`);
    return page;
  }

  it('anna sees acme\'s checks by site, with states, latency history, maintenance and silence', async () => {
    const page = await openAs('anna', 'en-US');
    // Reached from the navigation, without a reload.
    await page.getByRole('navigation').getByRole('link', { name: 'Checks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Checks' }).waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).pathname).toBe('/checks');

    const hq = page.getByRole('region', { name: 'Site Headquarters' });
    const munich = page.getByRole('region', { name: 'Site Branch Munich' });
    // The closed port goes down, the open one up; both within a few runs (the board refreshes every 15 s).
    await expect.poll(() => hq.innerText(), { timeout: 60_000 }).toContain('Down');
    await expect.poll(() => munich.innerText(), { timeout: 60_000 }).toContain('Up');
    const mail = hq.getByRole('listitem').filter({ hasText: 'smtp' });
    await expect.poll(() => hq.innerText()).toContain('Mail service');
    expect(await mail.innerText()).toContain('Silenced');
    expect(await mail.innerText()).toContain('Last error');
    const doorCheck = munich.getByRole('listitem').filter({ hasText: 'door-api' });
    expect(await doorCheck.innerText()).toContain('In maintenance');
    expect(await doorCheck.innerText()).not.toContain('Silenced');
    // The latency history, in words beside the sparkline: after a few runs, min/avg/max of them.
    await expect.poll(() => doorCheck.innerText(), { timeout: 60_000 }).toMatch(/Last \d+ runs: min [\d.]+ ms, avg [\d.]+ ms, max [\d.]+ ms/);
    expect(await doorCheck.locator('svg polyline').count()).toBe(1);

    // Counts per state at the top, for acme only.
    const counts = await page.getByRole('list', { name: 'Checks per state' }).innerText();
    expect(counts).toMatch(/Down:\s*1/);
    expect(counts).toMatch(/Up:\s*1/);
    // One tenant: no tenant level, and nothing of globex.
    const text = await page.locator('main').innerText();
    expect(text).not.toContain('Tenant');
    expect(text).not.toContain('globex');

    // Filters: by state and by text.
    await page.getByLabel('State', { exact: true }).selectOption('down');
    await expect.poll(() => page.locator('main').innerText()).not.toContain('door-api');
    expect(await page.locator('main').innerText()).toContain('1 of 2 checks shown');
    await page.getByLabel('State', { exact: true }).selectOption('');
    await page.getByLabel('Search', { exact: true }).fill('door');
    await expect.poll(() => page.locator('main').innerText()).not.toContain('smtp');
    await page.getByLabel('Search', { exact: true }).fill('');

    await screenshot(page, 'checks-board');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('gustav (globex) sees none of acme\'s checks, even asking the API directly', async () => {
    const page = await openAs('gustav', 'en-US');
    await page.goto(`${daemon.url}/checks`);
    await page.getByText('No checks are configured for you.').waitFor({ timeout: 30_000 });
    const text = await page.locator('main').innerText();
    for (const acme of ['Mail service', 'smtp', 'Door panel', 'Headquarters']) expect(text).not.toContain(acme);
    const answer = await page.evaluate<string>("fetch('/api/v1/checks?include=history').then((r) => r.text())");
    expect(answer).not.toContain('mail');
    expect(answer).not.toContain('door');
    await page.context().close();
  }, 120_000);

  it('speaks German and fits a 375 px phone screen', async () => {
    const page = await openAs('anna', 'de-DE', 375);
    await page.goto(`${daemon.url}/checks`);
    await page.getByRole('heading', { level: 1, name: 'Prüfungen' }).waitFor({ timeout: 30_000 });
    await page.getByRole('region', { name: 'Standort Headquarters' }).waitFor();
    await expect.poll(() => page.locator('main').innerText(), { timeout: 60_000 }).toContain('Ausgefallen');
    const text = await page.locator('main').innerText();
    for (const word of ['Stummgeschaltet', 'In Wartung', 'Letztes Ergebnis', 'Letzter Fehler']) expect(text).toContain(word);
    expect(await page.getByRole('list', { name: 'Prüfungen je Zustand' }).innerText()).toContain('In Ordnung');
    await expect.poll(() => page.locator('main').innerText(), { timeout: 60_000 }).toMatch(/Letzte \d+ Läufe: min\. [\d,]+ ms/);
    expect(await page.getByLabel('Zustand', { exact: true }).count()).toBe(1);
    expect(await page.getByLabel('Suche', { exact: true }).count()).toBe(1);
    // Nothing wider than the screen: no sideways scrolling on a phone.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await screenshot(page, 'checks-board-de-375');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  }, 180_000);
});
