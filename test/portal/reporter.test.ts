// Employees in the portal, end to end in Chromium against the real daemon with a real SMTP server:
// rita (reporter, on a 375 px phone) reports a printer problem and sees its number, a receipt with
// the number reaches her mailbox; erik, in German, reports the same printer and joins the known
// incident; anna resolves it through the API; rita's "my reports" turns to resolved with the note
// by itself. A reporter who opens the staff's incident list gets no incident data.
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPortal, chromiumPath, launch, newContext, screenshot, seriousViolations, signIn, startDaemon, type Daemon } from './harness.js';

const CHROMIUM = chromiumPath();
if (CHROMIUM === null) console.warn('portal browser tests skipped: no Chromium; install it with `apt-get install chromium`');

const WAIT = { timeout: 30_000 };
const NOTE = 'Cleared the jam in tray 2 and replaced the worn pick-up roller';

describe.skipIf(CHROMIUM === null)('reporters in the portal', () => {
  let portalRoot: string;
  let daemon: Daemon;
  let browser: Browser;
  let rita: Page;
  /** The incident number rita was given. */
  let number = '';

  beforeAll(async () => {
    portalRoot = await buildPortal();
    daemon = await startDaemon(portalRoot, { smtp: true });
    browser = await launch(CHROMIUM!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function signedIn(name: string, locale: string, width?: number): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newContext(browser, { locale, ...(width === undefined ? {} : { width }) });
    await signIn(context, daemon.url, name);
    return { context, page: await context.newPage() };
  }

  const mainText = (page: Page) => page.locator('main').innerText();
  const scrollWidth = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth');

  it('rita reports a printer problem on her phone, sees the number, and gets a receipt with it by mail', async () => {
    ({ page: rita } = await signedIn('rita', 'en-US', 375));
    await rita.goto(`${daemon.url}/`);
    // The start page leads a reporter to the form and to her reports; the navigation too.
    await rita.getByRole('main').getByRole('link', { name: 'Report a problem' }).click(WAIT);
    await rita.getByRole('heading', { level: 1, name: 'Report a problem' }).waitFor(WAIT);
    expect(await rita.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'My reports' }).count()).toBe(1);
    // One organisation: nothing to choose.
    expect(await rita.getByLabel('Organisation').count()).toBe(0);

    // The template follows the category: Wi-Fi asks for the network, the printer for which printer.
    await rita.getByLabel('Wi-Fi', { exact: true }).check();
    await rita.getByLabel('Network name (the Wi-Fi you connect to)').waitFor(WAIT);
    expect(await rita.getByLabel('What happens?').getAttribute('placeholder')).toContain('connect');
    await rita.getByLabel('Printer', { exact: true }).check();
    expect(await rita.getByLabel('Network name (the Wi-Fi you connect to)').count()).toBe(0);
    expect(await rita.getByLabel('What happens?').getAttribute('placeholder')).toContain('paper jam');
    await rita.getByLabel('Which printer?').selectOption('printer-3f');
    // The printer category's self-help hint, from the rule that classifies printer reports.
    await rita.getByText("Check the printer's display for a paper jam or an open door").waitFor(WAIT);
    // The printer's site is the likely answer to "where".
    expect(await rita.getByLabel('Site', { exact: true }).inputValue()).toBe('Branch Munich');

    // Sent without saying what happens: the daemon's objection stands next to the text field.
    await rita.getByRole('button', { name: 'Send report' }).click();
    await rita.getByText('The report was not sent. Please correct the marked fields.').waitFor(WAIT);
    const description = rita.getByLabel('What happens?');
    expect(await description.getAttribute('aria-invalid')).toBe('true');
    expect(await description.getAttribute('aria-describedby')).toContain('r-description-error');
    expect((await rita.locator('#r-description-error').innerText()).trim()).not.toBe('');

    await description.fill('Paper jam in tray 2, the display shows E-204 and nothing prints');
    await rita.getByLabel('Room or floor').fill('3rd floor, by the kitchen');
    await rita.getByLabel('Several people').check();
    // Half an hour ago in the browser's own zone (America/New_York), as the input takes it.
    const since = await rita.evaluate<string>(
      "(() => { const d = new Date(Date.now() - 1800000); const p = (n) => String(n).padStart(2, '0'); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; })()",
    );
    await rita.getByLabel('Since when? (your local time)').fill(since);
    await rita.getByLabel('How can we reach you?').fill('phone 0123 456 789');
    // Once edited, the field no longer says it is wrong; the daemon checks it again on sending.
    expect(await rita.locator('#r-description-error').count()).toBe(0);
    expect(await description.getAttribute('aria-invalid')).toBeNull();
    expect(await scrollWidth(rita)).toBeLessThanOrEqual(375);
    await screenshot(rita, 'report-form');
    expect(await seriousViolations(rita)).toEqual([]);

    await rita.getByRole('button', { name: 'Send report' }).click();
    await rita.getByRole('heading', { level: 1, name: 'Report received' }).waitFor(WAIT);
    number = (await rita.locator('.number strong').innerText()).trim();
    expect(number).toMatch(/^INC-\d+$/);
    expect(await mainText(rita)).toContain('A new incident was opened for your report.');
    expect(await rita.getByRole('link', { name: 'See my reports' }).count()).toBe(1);

    // The receipt: a mail to rita naming the number, through the real SMTP server.
    await expect
      .poll(() => daemon.mails.filter((m) => m.to.includes('rita@acme.invalid') && `${m.mail.headers.get('subject') ?? ''} ${m.mail.text}`.includes(number)).length, WAIT)
      .toBeGreaterThanOrEqual(1);

    // Staff see the report as an incident of acme.
    const { context: anna } = await signedIn('anna', 'en-US');
    const incident = await anna.request.get(`${daemon.url}/api/v1/incidents/${number}`);
    expect(incident.status()).toBe(200);
    expect(((await incident.json()) as { tenant: string }).tenant).toBe('acme');
    await anna.close();
  }, 180_000);

  it('erik reports the same printer in German and joins the known incident instead of opening a second', async () => {
    const { context, page } = await signedIn('erik', 'de-DE');
    await page.goto(`${daemon.url}/report`);
    await page.getByRole('heading', { level: 1, name: 'Problem melden' }).waitFor(WAIT);
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    await page.getByRole('group', { name: 'Worum geht es?' }).getByLabel('Drucker', { exact: true }).check();
    await page.getByLabel('Welcher Drucker?').selectOption('printer-3f');
    await page.getByLabel('Was passiert?').fill('Der Drucker im 3. OG zieht kein Papier ein');
    await page.getByLabel('Raum oder Etage').fill('3. OG');
    await page.getByRole('group', { name: 'Wer ist betroffen?' }).getByLabel('Mehrere Personen').check();
    for (const label of ['Standort', 'Seit wann? (Ihre Ortszeit)', 'Wie erreichen wir Sie?']) expect(await page.getByLabel(label, { exact: true }).count()).toBe(1);
    await screenshot(page, 'report-form-de');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Meldung senden' }).click();
    await page.getByRole('heading', { level: 1, name: 'Meldung eingegangen' }).waitFor(WAIT);
    expect((await page.locator('.number strong').innerText()).trim()).toBe(number);
    expect(await mainText(page)).toContain('Dieses Problem ist bereits bekannt und wird bearbeitet');
    await context.close();

    // Joining sends no opening mail, so erik gets a receipt of his own with the same number.
    await expect
      .poll(() => daemon.mails.filter((m) => m.to.includes('erik@acme.invalid') && (m.mail.headers.get('subject') ?? '').includes(`[${number}] Your report was received`)).length, WAIT)
      .toBe(1);

    // Still one active incident about the printer.
    const { context: anna } = await signedIn('anna', 'en-US');
    const list = await anna.request.get(`${daemon.url}/api/v1/incidents?status=open&limit=50`);
    expect(list.status()).toBe(200);
    const items = ((await list.json()) as { items: { number: string; target: { id: string } | null }[] }).items;
    expect(items.filter((i) => i.target?.id === 'printer-3f').map((i) => i.number)).toEqual([number]);
    await anna.close();
  }, 180_000);

  it('rita’s reports turn to resolved with the note without a reload once anna resolves the incident', async () => {
    await rita.getByRole('link', { name: 'See my reports' }).click();
    await rita.getByRole('heading', { level: 1, name: 'My reports' }).waitFor(WAIT);
    await rita.getByText('Received, not yet picked up').waitFor(WAIT);
    const before = await mainText(rita);
    expect(before).toContain(number);
    expect(before).toContain('Paper jam in tray 2, the display shows E-204');
    expect(before).toContain('Printer');

    // anna resolves it as staff do: her browser session, with its CSRF token.
    const { context: anna } = await signedIn('anna', 'en-US');
    const session = (await (await anna.request.get(`${daemon.url}/api/v1/session`)).json()) as { csrfToken: string };
    const resolved = await anna.request.post(`${daemon.url}/api/v1/incidents/${number}/resolve`, {
      headers: { 'x-csrf-token': session.csrfToken },
      data: { message: NOTE },
    });
    expect(resolved.status()).toBe(200);
    await anna.close();

    // The page asks again every 30 s by itself.
    await rita.getByText(NOTE).waitFor({ timeout: 60_000 });
    const after = await mainText(rita);
    expect(after).toContain('Resolved');
    expect(after).not.toContain('Received, not yet picked up');
    expect(await scrollWidth(rita)).toBeLessThanOrEqual(375);
    await screenshot(rita, 'my-reports');
    expect(await seriousViolations(rita)).toEqual([]);

    // The resolution reaches her mailbox as well (the subscriber mails).
    await expect
      .poll(() => daemon.mails.filter((m) => m.to.includes('rita@acme.invalid') && `${m.mail.headers.get('subject') ?? ''} ${m.mail.text}`.includes(number)).length, WAIT)
      .toBeGreaterThanOrEqual(2);
    // erik, who joined, is a subscriber: the resolution reaches him too.
    await expect
      .poll(() => daemon.mails.filter((m) => m.to.includes('erik@acme.invalid') && (m.mail.headers.get('subject') ?? '').includes('Resolved:')).length, WAIT)
      .toBe(1);
  }, 180_000);

  it('a reporter who opens the staff’s incident list gets no incident data', async () => {
    await rita.goto(`${daemon.url}/incidents`);
    await rita.getByRole('heading', { level: 1 }).waitFor(WAIT);
    const text = await mainText(rita);
    expect(text).not.toContain(number);
    expect(text).not.toContain('Paper jam');
    const api = await rita.context().request.get(`${daemon.url}/api/v1/incidents`);
    expect(api.status()).toBe(403);
    await rita.context().close();
  }, 120_000);

  it('someone of two organisations chooses one, and sees an empty list before reporting', async () => {
    const { context, page } = await signedIn('mona', 'en-US');
    await page.goto(`${daemon.url}/my-reports`);
    await page.getByText('You have not reported any problem yet.').waitFor(WAIT);
    await page.getByRole('main').getByRole('link', { name: 'Report a problem' }).click();
    const organisation = page.getByLabel('Organisation');
    await organisation.waitFor(WAIT);
    const options = await organisation.locator('option').allInnerTexts();
    expect(options).toEqual(expect.arrayContaining(['ACME Corp', 'Globex Industries']));
    await context.close();
  }, 120_000);
});
