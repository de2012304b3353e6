// The portal in a real browser against the real daemon: the start page loads, a public tenant's
// status page shows its services and an ongoing incident in English and German (by the browser's
// language and by the switch, which is kept), a private tenant's page is not shown to a stranger,
// the page works on a 375 px phone screen and by keyboard, and axe-core finds no serious problems.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPortal, chromiumPath, launch, newContext, screenshot, seriousViolations, startDaemon, type Daemon } from './harness.js';

const CHROMIUM = chromiumPath();
if (CHROMIUM === null) console.warn('portal browser tests skipped: no Chromium; install it with `apt-get install chromium`');

describe.skipIf(CHROMIUM === null)('the portal in Chromium', () => {
  let portalRoot: string;
  let daemon: Daemon;
  let browser: Browser;

  beforeAll(async () => {
    portalRoot = await buildPortal();
    daemon = await startDaemon(portalRoot);
    browser = await launch(CHROMIUM!);
    const res = await daemon.alert({
      alerts: [{ name: 'PrinterJam', target: { id: 'printer-3f', name: 'Printer 3rd floor', site: 'Branch Munich' }, status: 'firing', severity: 'warning', message: 'tray 2 jammed, internal id 4711', labels: { rack: 'r9-secret' } }],
    });
    expect(res.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function open(locale: string, path: string, width?: number): Promise<Page> {
    const context = await newContext(browser, { locale, ...(width === undefined ? {} : { width }) });
    const page = await context.newPage();
    await page.goto(`${daemon.url}${path}`);
    return page;
  }

  it('opens the portal at / instead of a JSON 404', async () => {
    const page = await open('en-US', '/');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Incident portal');
    expect(await page.content()).not.toContain('not_found');
    await screenshot(page, 'home-en');
    // The form opens a status page without a reload.
    await page.getByLabel('Organisation id').fill('acme');
    await page.keyboard.press('Enter');
    await page.getByText('Printer 3rd floor has a paper jam').waitFor();
    expect(new URL(page.url()).pathname).toBe('/status/acme');
    await page.context().close();
  });

  it('shows a public tenant’s services and ongoing incident in English, in plain words', async () => {
    const page = await open('en-US', '/status/acme');
    await page.getByText('Printer 3rd floor has a paper jam').waitFor();
    const text = await page.locator('main').innerText();
    expect(text).toContain('ACME Corp');
    expect(text).toContain('Ongoing incidents');
    expect(text).toContain('Medium');
    expect(text).toContain('Site Headquarters');
    expect(text).toContain('Mail service');
    expect(text).toContain('Site Branch Munich');
    expect(text).toContain('Last 90 days');
    expect(text).toContain('Incidents on 1 day in the last 90 days.');
    for (const secret of ['r9-secret', '4711', 'printer-jam', 'Globex']) expect(text).not.toContain(secret);
    // The mail check (a closed port) goes down within a few runs.
    await expect.poll(() => page.reload().then(() => page.locator('main').innerText()), { timeout: 10_000 }).toContain('Down');
    await page.getByText('There is an outage').waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('en');
    await screenshot(page, 'status-acme-en');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('speaks German to a German browser, and the switch changes the language and keeps it', async () => {
    const de = await open('de-DE', '/status/acme');
    await de.getByText('Laufende Störungen').waitFor();
    const text = await de.locator('main').innerText();
    expect(text).toContain('Printer 3rd floor has a paper jam');
    expect(text).toContain('Standort Headquarters');
    expect(text).toContain('Letzte 90 Tage');
    expect(await de.evaluate('document.documentElement.lang')).toBe('de');
    await screenshot(de, 'status-acme-de');
    expect(await seriousViolations(de)).toEqual([]);
    await de.context().close();

    const en = await open('en-US', '/status/acme');
    await en.getByText('Ongoing incidents').waitFor();
    await en.getByLabel('Language').selectOption('de');
    await en.getByText('Laufende Störungen').waitFor();
    await en.reload();
    await en.getByText('Laufende Störungen').waitFor();
    await en.getByLabel('Sprache').selectOption('en');
    await en.getByText('Ongoing incidents').waitFor();
    await en.context().close();
  });

  it('does not show a private tenant’s page to a stranger', async () => {
    const page = await open('en-US', '/status/globex');
    await page.getByText('There is no status page at this address').waitFor();
    expect(await page.locator('main').innerText()).not.toContain('Globex VPN gateway');
    const api = await fetch(`${daemon.url}/api/v1/status/globex`);
    expect(api.status).toBe(404);
    await screenshot(page, 'status-private-en');
    await page.context().close();
  });

  it('fits a 375 px phone screen and is usable by keyboard', async () => {
    const page = await open('en-US', '/status/acme', 375);
    await page.getByText('Printer 3rd floor has a paper jam').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    // The first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('location.hash')).toBe('#main');
    // The language switch and the history details are reachable and work by keyboard.
    await page.getByLabel('Language').focus();
    await page.keyboard.press('ArrowDown');
    await page.getByText('Laufende Störungen').waitFor();
    await page.locator('summary').focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('details').getAttribute('open')).not.toBeNull();
    await screenshot(page, 'status-acme-phone-de');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });
});
