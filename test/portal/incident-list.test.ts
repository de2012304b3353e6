// The sign-in page and the incident list in a real browser against the real daemon: signing in
// through the form (a wrong password shows the daemon's words), anna of acme sees acme's incidents
// only, a filter narrows the list and is kept in the address, an alert posted while the page is
// open appears without a reload, the list speaks German to a German browser, a signed-out visitor
// is sent to the sign-in page and back, and axe-core finds no serious problems.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPortal, chromiumPath, launch, newContext, PASSWORD, screenshot, seriousViolations, signIn, startDaemon, type Daemon } from './harness.js';

const CHROMIUM = chromiumPath();
if (CHROMIUM === null) console.warn('portal browser tests skipped: no Chromium; install it with `apt-get install chromium`');

const WAIT = { timeout: 30_000 };

describe.skipIf(CHROMIUM === null)('sign-in and the incident list in Chromium', () => {
  let portalRoot: string;
  let daemon: Daemon;
  let browser: Browser;

  const alert = (name: string, target: string, targetName: string) => ({
    alerts: [{ name, target: { id: target, name: targetName, site: 'Branch Munich' }, status: 'firing', severity: 'warning' }],
  });

  beforeAll(async () => {
    portalRoot = await buildPortal();
    daemon = await startDaemon(portalRoot);
    browser = await launch(CHROMIUM!);
    expect((await daemon.alert(alert('PrinterJam', 'printer-3f', 'Printer 3rd floor'))).status).toBe(200);
    expect((await daemon.alert(alert('DiskFull', 'fileserver', 'File server'))).status).toBe(200);
    expect((await daemon.globexAlert(alert('VpnDown', 'globex-vpn', 'Globex VPN gateway'))).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function page(locale: string, width?: number): Promise<Page> {
    const context = await newContext(browser, { locale, ...(width === undefined ? {} : { width }) });
    return context.newPage();
  }

  it('sends a signed-out visitor to the sign-in page, shows a wrong password\'s message, and signs in through the form back to the list', async () => {
    const p = await page('en-US');
    await p.goto(`${daemon.url}/incidents?severity=medium`);
    await p.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor(WAIT);
    const url = new URL(p.url());
    expect(url.pathname).toBe('/signin');
    expect(url.searchParams.get('next')).toBe('/incidents?severity=medium');

    await p.getByLabel('User name').fill('anna');
    await p.getByLabel('Password').fill('not the password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    const refusal = p.getByRole('alert');
    await refusal.waitFor(WAIT);
    expect(await refusal.innerText()).toContain('The sign-in was refused');
    expect(await refusal.innerText()).toMatch(/name or password/i);
    expect(await seriousViolations(p)).toEqual([]);
    await screenshot(p, 'signin');

    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor(WAIT);
    expect(new URL(p.url()).pathname + new URL(p.url()).search).toBe('/incidents?severity=medium');
    await p.getByRole('link', { name: /^INC-/ }).first().waitFor(WAIT);
    expect(await p.locator('main').innerText()).toContain('Printer 3rd floor');
    await p.context().close();
  }, 120_000);

  it('a reporter signing in is not sent to the staff list; a bad next address is ignored', async () => {
    const p = await page('en-US');
    await p.goto(`${daemon.url}/signin?next=${encodeURIComponent('//evil.invalid/x')}`);
    await p.getByLabel('User name').fill('rita');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => new URL(p.url()).pathname, WAIT).toBe('/');
    expect(new URL(p.url()).host).toBe(new URL(daemon.url).host);
    // The navigation offers no incident list to a reporter.
    expect(await p.getByRole('navigation').getByRole('link', { name: 'Incidents' }).count()).toBe(0);
    await p.context().close();
  }, 120_000);

  it('a session that ends mid-use sends the next action to the sign-in page and back', async () => {
    const p = await page('en-US');
    await signIn(p.context(), daemon.url, 'anna');
    await p.goto(`${daemon.url}/incidents?severity=medium`);
    await p.getByRole('link', { name: /^INC-/ }).first().waitFor(WAIT);
    // Signed out behind the page's back (another tab, an expiry): the page does not know yet.
    const who = await p.context().request.get(`${daemon.url}/api/v1/session`);
    const { csrfToken } = (await who.json()) as { csrfToken: string };
    const out = await p.context().request.delete(`${daemon.url}/api/v1/session`, { headers: { 'x-csrf-token': csrfToken } });
    expect(out.status()).toBeLessThan(300);
    expect(await p.locator('header').innerText()).toContain('anna');
    // The next thing done on the page meets a 401: off to sign in, with the page asked for in next.
    await p.getByRole('navigation').getByRole('link', { name: 'Checks' }).click();
    await p.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor(WAIT);
    const url = new URL(p.url());
    expect(url.pathname).toBe('/signin');
    expect(url.searchParams.get('next')).toBe('/checks');
    await p.getByLabel('User name').fill('anna');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Checks', level: 1 }).waitFor(WAIT);
    expect(new URL(p.url()).pathname).toBe('/checks');
    await p.context().close();
  }, 120_000);

  it('tells a signed-in reporter that a staff page is not for their role', async () => {
    const p = await page('en-US');
    await signIn(p.context(), daemon.url, 'rita');
    await p.goto(`${daemon.url}/checks`);
    await p.getByRole('heading', { name: 'Not allowed', level: 1 }).waitFor(WAIT);
    expect(await p.getByRole('alert').innerText()).toContain('your role may not use this page');
    expect(new URL(p.url()).pathname).toBe('/checks');
    expect(await seriousViolations(p)).toEqual([]);
    await p.context().close();
  }, 120_000);

  it('shows anna of acme acme\'s incidents only; a filter narrows the list and is kept in the address', async () => {
    const p = await page('en-US');
    await signIn(p.context(), daemon.url, 'anna');
    await p.goto(`${daemon.url}/incidents`);
    await p.getByRole('link', { name: /^INC-/ }).first().waitFor(WAIT);
    await expect.poll(() => p.getByRole('link', { name: /^INC-/ }).count(), WAIT).toBe(2);
    const all = await p.locator('main').innerText();
    expect(all).toContain('Printer 3rd floor');
    expect(all).toContain('File server');
    expect(all).not.toContain('Globex');
    // One tenant: no tenant column or filter.
    expect(await p.getByLabel('Tenant').count()).toBe(0);
    // Rows link to the incident's page.
    const href = await p.getByRole('link', { name: /^INC-/ }).first().getAttribute('href');
    expect(href).toMatch(/^\/incidents\/INC-\d+$/);

    await p.getByLabel('Search in title and description').fill('paper jam');
    await p.keyboard.press('Enter');
    await expect.poll(() => new URL(p.url()).searchParams.get('q'), WAIT).toBe('paper jam');
    await expect.poll(() => p.getByRole('link', { name: /^INC-/ }).count(), WAIT).toBe(1);
    expect(await p.locator('main').innerText()).not.toContain('File server');
    // The back button brings the unfiltered list back.
    await p.goBack();
    await expect.poll(() => p.getByRole('link', { name: /^INC-/ }).count(), WAIT).toBe(2);
    await p.getByLabel('Tier').selectOption('L1');
    await expect.poll(() => new URL(p.url()).searchParams.get('tier'), WAIT).toBe('L1');
    // The paper jam's rule puts it at L1; every row shown is at L1.
    await p.getByRole('cell', { name: /Printer 3rd floor has a paper jam/ }).waitFor(WAIT);
    const tiers = await p.locator('tbody tr td:nth-child(6)').allInnerTexts();
    expect(tiers.length).toBeGreaterThan(0);
    expect(new Set(tiers)).toEqual(new Set(['L1']));
    await p.getByLabel('Status').selectOption('resolved');
    await expect.poll(() => new URL(p.url()).searchParams.get('status'), WAIT).toBe('resolved');
    await p.getByText('No incidents match these filters.').waitFor(WAIT);
    await p.context().close();
  }, 120_000);

  it('a new incident appears without a reload, with a polite note', async () => {
    const p = await page('en-US');
    await signIn(p.context(), daemon.url, 'anna');
    await p.goto(`${daemon.url}/incidents`);
    await p.getByText('Live: changes appear by themselves').waitFor(WAIT);
    // A marker that a reload would wipe.
    await p.evaluate('window.__stillTheSamePage = true');
    expect(await p.locator('main').innerText()).not.toContain('Scanner');
    expect((await daemon.alert(alert('ScannerOffline', 'scanner-2', 'Scanner 2nd floor'))).status).toBe(200);
    await p.getByRole('cell', { name: /Scanner 2nd floor/ }).first().waitFor(WAIT);
    await p.getByRole('status').filter({ hasText: '1 new incident' }).waitFor({ state: 'attached', ...WAIT });
    expect(await p.evaluate('window.__stillTheSamePage')).toBe(true);
    expect(await seriousViolations(p)).toEqual([]);
    await screenshot(p, 'incident-list');
    await p.context().close();
  }, 120_000);

  it('speaks German to a German browser, and an MSP manager sees both tenants', async () => {
    const p = await page('de-DE');
    await signIn(p.context(), daemon.url, 'mona');
    await p.goto(`${daemon.url}/incidents`);
    await p.getByRole('heading', { name: 'Störungen', level: 1 }).waitFor(WAIT);
    await p.getByRole('link', { name: /^INC-/ }).first().waitFor(WAIT);
    const text = await p.locator('main').innerText();
    for (const word of ['Schweregrad', 'Priorität', 'Supportstufe', 'Eröffnet', 'Offen', 'Filter anwenden', 'Reihenfolge', 'Mandant']) expect(text).toContain(word);
    expect(text).toContain('Globex VPN gateway');
    expect(text).toContain('Printer 3rd floor');
    expect(await p.evaluate('document.documentElement.lang')).toBe('de');
    expect(await p.getByRole('navigation').getByRole('link', { name: 'Störungen' }).count()).toBe(1);
    expect(await seriousViolations(p)).toEqual([]);
    await screenshot(p, 'incident-list-de');
    await p.context().close();
  }, 120_000);

  it('fits a 375 px phone screen', async () => {
    const p = await page('en-US', 375);
    await signIn(p.context(), daemon.url, 'anna');
    await p.goto(`${daemon.url}/incidents`);
    await p.getByRole('link', { name: /^INC-/ }).first().waitFor(WAIT);
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await p.context().close();
  }, 120_000);
});
