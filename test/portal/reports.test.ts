// The reports page in a real browser against the real daemon, with incidents opened by alerts of
// two tenants: a manager of the MSP sees figures, charts and tables for both and can narrow them to
// one tenant (kept in the address); an acme agent sees acme's figures only; a reporter is refused
// (page and API); the page speaks German; axe-core finds no serious problems.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPortal, chromiumPath, launch, newContext, screenshot, seriousViolations, signIn, startDaemon, type Daemon } from './harness.js';

const CHROMIUM = chromiumPath();
if (CHROMIUM === null) console.warn('portal browser tests skipped: no Chromium; install it with `apt-get install chromium`');

const WAIT = { timeout: 30_000 };

describe.skipIf(CHROMIUM === null)('the reports page in Chromium', () => {
  let portalRoot: string;
  let daemon: Daemon;
  let browser: Browser;

  beforeAll(async () => {
    portalRoot = await buildPortal();
    daemon = await startDaemon(portalRoot);
    browser = await launch(CHROMIUM!);
    const acme = await daemon.alert({
      alerts: [
        { name: 'PrinterJam', target: { id: 'printer-3f', name: 'Printer 3rd floor', site: 'Branch Munich' }, status: 'firing', severity: 'warning', message: 'tray 2 jammed' },
        { name: 'PrinterJam', target: { id: 'printer-2f', name: 'Printer 2nd floor', site: 'Headquarters' }, status: 'firing', severity: 'warning', message: 'tray 1 jammed' },
      ],
    });
    expect(acme.status).toBe(200);
    // The 2nd floor's jam is cleared: a handling time to show.
    const cleared = await daemon.alert({
      alerts: [{ name: 'PrinterJam', target: { id: 'printer-2f', name: 'Printer 2nd floor', site: 'Headquarters' }, status: 'resolved', severity: 'warning', message: 'tray 1 cleared' }],
    });
    expect(cleared.status).toBe(200);
    const globex = await daemon.globexAlert({
      alerts: [{ name: 'VpnTunnelDown', target: { id: 'globex-vpn', name: 'Globex VPN gateway', site: 'Head office' }, status: 'firing', severity: 'critical', message: 'tunnel to branch down' }],
    });
    expect(globex.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function openAs(name: string, locale: string, path: string, width?: number): Promise<Page> {
    const context = await newContext(browser, { locale, ...(width === undefined ? {} : { width }) });
    await signIn(context, daemon.url, name);
    const page = await context.newPage();
    await page.goto(`${daemon.url}${path}`);
    return page;
  }

  /** The cells of the counts table's row for a key: [key, current, previous, change, change %]. */
  async function countsRow(page: Page, key: string): Promise<string[]> {
    const row = page.locator('section[aria-labelledby="counts-h"] tbody tr').filter({ has: page.getByRole('rowheader', { name: key, exact: true }) });
    await row.waitFor(WAIT);
    return row.locator('th, td').allInnerTexts();
  }

  it('shows a manager the figures of both tenants, with charts, tables and CSV, and narrows them to one tenant', async () => {
    const page = await openAs('mona', 'en-US', '/');
    // Reached from the navigation, without a reload.
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe('/reports');

    const printing = await countsRow(page, 'printing');
    expect(printing.slice(1, 3)).toEqual(['2', '0']);
    expect(printing[3]).toBe('+2');
    expect((await countsRow(page, 'vpn-tunnel')).slice(1, 3)).toEqual(['1', '0']);
    await page.getByText('3 incidents in').waitFor(WAIT);
    // The trend chart and the backlog chart are drawn, each with a table beside it.
    await expect.poll(() => page.locator('main canvas').count(), WAIT).toBeGreaterThanOrEqual(2);
    expect(await page.getByText('Trend as a table').count()).toBe(1);
    expect(await page.getByText('Backlog as a table').count()).toBe(1);
    // The cleared jam was resolved: a medium incident's time to resolve.
    const medium = page.locator('section[aria-labelledby="times-h"] tbody tr').filter({ has: page.getByRole('rowheader', { name: 'Medium', exact: true }) });
    await medium.first().waitFor(WAIT);
    expect((await medium.first().locator('th, td').allInnerTexts()).slice(0, 3)).toEqual(['Medium', 'Time to resolve', '1']);
    // Business time beside it: this daemon has no business hours, so its SLA clocks run around the
    // clock and the business figures are the calendar ones.
    await page.getByRole('columnheader', { name: 'Median, business time' }).waitFor(WAIT);
    await expect.poll(async () => (await medium.first().locator('td').allInnerTexts())[5], WAIT).not.toBe('…');
    const cells = await medium.first().locator('th, td').allInnerTexts();
    expect(cells).toHaveLength(9);
    expect(cells.slice(6)).toEqual(cells.slice(3, 6));
    expect(await page.getByRole('link', { name: 'Download CSV (business time)' }).getAttribute('href')).toContain('time=business');
    // Targets with the most incidents, and the heatmap's cells say their numbers.
    await page.getByRole('rowheader', { name: /Globex VPN gateway/ }).waitFor(WAIT);
    const heat = await page.locator('table.heatmap tbody td').allInnerTexts();
    expect(heat).toHaveLength(7 * 24);
    expect(heat.map(Number).reduce((a, b) => a + b, 0)).toBe(3);

    // Every table links to its CSV, which the daemon serves to this session.
    const csvLinks = await page.getByRole('link', { name: 'Download CSV' }).evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    expect(csvLinks.length).toBeGreaterThanOrEqual(8);
    for (const href of csvLinks) expect(href).toContain('format=csv');
    const counts = await page.context().request.get(`${daemon.url}${csvLinks[0]!}`);
    expect(counts.status()).toBe(200);
    expect(counts.headers()['content-type']).toContain('text/csv');
    expect(await counts.text()).toContain('printing,2,0,2,');

    await screenshot(page, 'reports');
    expect(await seriousViolations(page)).toEqual([]);

    // One tenant: kept in the address, and globex's figures are gone.
    // Every configured tenant, as GET /api/v1/reports/tenants lists them (default too, without incidents).
    expect(await page.getByLabel('Tenant', { exact: true }).locator('option').allInnerTexts()).toEqual(['All tenants', 'acme', 'default', 'globex']);
    await page.getByLabel('Tenant', { exact: true }).selectOption('acme');
    await expect.poll(() => new URL(page.url()).searchParams.get('tenant'), WAIT).toBe('acme');
    await page.getByText('2 incidents in').waitFor(WAIT);
    expect(await page.locator('main').innerText()).not.toContain('vpn-tunnel');
    // The address alone opens the same view.
    await page.reload();
    await page.getByText('2 incidents in').waitFor(WAIT);
    expect(await page.getByLabel('Tenant', { exact: true }).inputValue()).toBe('acme');
    await page.context().close();
  }, 120_000);

  it('compares with the period before: this week has the incidents, the week before has none', async () => {
    const page = await openAs('mona', 'en-US', '/reports?period=week&which=previous&by=category');
    await page.getByText('0 incidents in').waitFor(WAIT);
    expect(await page.locator('main').innerText()).not.toContain('printing');
    await page.getByLabel('Which period').selectOption('this');
    await page.getByText('3 incidents in').waitFor(WAIT);
    expect(new URL(page.url()).searchParams.get('which')).toBe('this');
    // Back goes to the previous view.
    await page.goBack();
    await page.getByText('0 incidents in').waitFor(WAIT);
    // A picked date: the month that contains it, a year ago.
    const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Period', { exact: true }).selectOption('month');
    await page.getByLabel('Which period').selectOption('date');
    await page.getByLabel('Date', { exact: true }).fill(yearAgo);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText(`0 incidents in ${yearAgo.slice(0, 7)}`).waitFor(WAIT);
    expect(new URL(page.url()).searchParams.get('date')).toBe(yearAgo);
    await page.context().close();
  }, 120_000);

  it('speaks German', async () => {
    const page = await openAs('mona', 'de-DE', '/reports');
    await page.getByRole('heading', { level: 1, name: 'Berichte' }).waitFor(WAIT);
    await countsRow(page, 'printing');
    const text = await page.locator('main').innerText();
    for (const words of ['Störungen im Vergleich zum vorigen Zeitraum', 'Bearbeitungszeiten', 'SLA-Einhaltung', 'Wiederkehrende Probleme', 'Stoßzeiten', 'Rückstau', 'CSV herunterladen', 'Alle Mandanten', 'Montag']) {
      expect(text).toContain(words);
    }
    expect(text).not.toContain('Download CSV');
    await expect.poll(() => page.locator('main canvas').count(), WAIT).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'reports-de');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('refuses a reporter: a page that says so, no link in the navigation, and the API answers 403', async () => {
    const page = await openAs('rita', 'en-US', '/reports');
    await page.getByRole('heading', { level: 1, name: 'No access to reports' }).waitFor(WAIT);
    expect(await page.locator('main').innerText()).not.toContain('printing');
    expect(await page.getByRole('link', { name: 'Reports', exact: true }).count()).toBe(0);
    const api = await page.context().request.get(`${daemon.url}/api/v1/reports/counts`);
    expect(api.status()).toBe(403);
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('gives a manager scoped to acme acme alone to report on: no tenant to choose, no globex figures', async () => {
    const page = await openAs('max', 'en-US', '/reports');
    expect((await countsRow(page, 'printing')).slice(1, 3)).toEqual(['2', '0']);
    // The daemon lists acme only for him, so there is nothing to choose: no tenant filter.
    const listed = await page.context().request.get(`${daemon.url}/api/v1/reports/tenants`);
    expect(await listed.json()).toEqual({ tenants: ['acme'] });
    expect(await page.getByLabel('Tenant', { exact: true }).count()).toBe(0);
    await page.getByLabel('Count by').selectOption('target');
    await countsRow(page, 'printer-3f');
    expect(await page.locator('main').innerText()).not.toContain('globex');
    await page.context().close();
  }, 120_000);

  it('shows an acme agent acme’s figures only, without a tenant filter, on a phone', async () => {
    const page = await openAs('anna', 'en-US', '/reports', 375);
    expect((await countsRow(page, 'printing')).slice(1, 3)).toEqual(['2', '0']);
    await page.getByText('2 incidents in').waitFor(WAIT);
    expect(await page.getByLabel('Tenant', { exact: true }).count()).toBe(0);
    await page.getByLabel('Count by').selectOption('target');
    await countsRow(page, 'printer-3f');
    await page.getByRole('rowheader', { name: /Printer 2nd floor/ }).waitFor(WAIT);
    const text = await page.locator('main').innerText();
    for (const globex of ['vpn-tunnel', 'globex-vpn', 'Globex VPN gateway', 'globex']) expect(text).not.toContain(globex);
    // Asking the API for globex gives nothing of globex's either.
    const api = await page.context().request.get(`${daemon.url}/api/v1/reports/counts?tenant=globex`);
    expect(api.status()).toBe(200);
    expect(JSON.stringify(await api.json())).not.toContain('vpn-tunnel');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.context().close();
  }, 120_000);
});
