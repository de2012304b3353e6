// The incident detail page in a real browser against the real daemon: an agent acknowledges,
// comments and resolves with a note and the timeline names her each time; an engineer escalates
// and changes the severity with reasons; a manager sees the page without actions; a person of
// another tenant gets the same "not found" page as for a number that was never handed out; the
// page speaks German, fits a 375 px phone and has no serious axe findings.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, buildPortal, PASSWORD, chromiumPath, launch, newContext, screenshot, seriousViolations, signIn, startDaemon, type Daemon } from './harness.js';

const CHROMIUM = chromiumPath();
if (CHROMIUM === null) console.warn('portal browser tests skipped: no Chromium; install it with `apt-get install chromium`');

const WAIT = { timeout: 30_000 };

interface Listed {
  number: string;
  target: { id: string };
}

describe.skipIf(CHROMIUM === null)('the incident detail page in Chromium', { timeout: 120_000 }, () => {
  let portalRoot: string;
  let daemon: Daemon;
  let browser: Browser;
  /** Anna's: acknowledged, commented, resolved. */
  let jam: string;
  /** Erik's: escalated and reclassified; stays open for the others. */
  let toner: string;

  async function numberOf(targetId: string): Promise<string> {
    const res = await fetch(`${daemon.url}/api/v1/incidents?limit=50`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const page = (await res.json()) as { items: Listed[] };
    const found = page.items.find((i) => i.target.id === targetId);
    if (found === undefined) throw new Error(`no incident for ${targetId}`);
    return found.number;
  }

  beforeAll(async () => {
    portalRoot = await buildPortal();
    daemon = await startDaemon(portalRoot);
    browser = await launch(CHROMIUM!);
    for (const [id, name] of [
      ['printer-3f', 'Printer 3rd floor'],
      ['printer-2f', 'Printer 2nd floor'],
    ]) {
      const res = await daemon.alert({
        alerts: [{ name: 'PrinterJam', target: { id, name, site: 'Branch Munich' }, status: 'firing', severity: 'warning', message: 'tray 2 jammed', labels: { tray: '2' } }],
      });
      expect(res.status).toBe(200);
    }
    // The alerts are taken in the background: wait until both incidents are there.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        jam = await numberOf('printer-3f');
        toner = await numberOf('printer-2f');
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function openAs(name: string, path: string, opts: { locale?: string; width?: number } = {}): Promise<Page> {
    const context = await newContext(browser, { locale: opts.locale ?? 'en-US', ...(opts.width === undefined ? {} : { width: opts.width }) });
    await signIn(context, daemon.url, name);
    const page = await context.newPage();
    await page.goto(`${daemon.url}${path}`);
    return page;
  }

  /** The timeline entries as "actor · action" lines. */
  async function timeline(page: Page): Promise<string[]> {
    return page.locator('.timeline .entry .meta').allInnerTexts();
  }

  it('lets an agent acknowledge, comment and resolve with a note; the timeline names her each time', async () => {
    const page = await openAs('anna', `/incidents/${jam}`);
    await page.getByRole('heading', { level: 1, name: /Printer 3rd floor has a paper jam/ }).waitFor(WAIT);
    const main = page.locator('main');
    const text = await main.innerText();
    for (const expected of ['Open', 'printing', 'Medium', 'Several users', 'Branch Munich', 'Acknowledge by', 'Resolve by', 'Classified by rule', 'tray=2', 'tray 2 jammed']) {
      expect(text).toContain(expected);
    }
    // The SLA clocks run: time left, and the due time itself.
    expect(text).toMatch(/due in (\d+ (d|h|min) ?)+/);
    // The rules explain themselves: printer-jam matched, as when the incident opened.
    await page.getByText('The same rule classifies this signal now.').waitFor(WAIT);
    expect(await page.locator('.trace').innerText()).toContain('printer-jam');
    // An agent does not escalate, reclassify or silence.
    for (const absent of ['Escalate', 'Change severity or impact', 'Silence']) {
      expect(await page.getByRole('button', { name: absent, exact: true }).count()).toBe(0);
    }
    await screenshot(page, 'incident-detail');
    expect(await seriousViolations(page)).toEqual([]);

    // Acknowledge by keyboard: the button opens the form and focuses its field.
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('ack-message');
    await page.keyboard.type('looking at it');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('.badge.status-acknowledged').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);

    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    await page.getByLabel('Comment text').fill('paper removed from tray 2');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.getByText('paper removed from tray 2').waitFor(WAIT);

    await page.getByRole('button', { name: 'Subscribe someone' }).click();
    await page.getByLabel('Mail address').fill('rita@acme.invalid');
    await page.getByRole('form', { name: 'Subscribe someone' }).getByRole('button', { name: 'Subscribe someone' }).click();
    await page.locator('section[aria-labelledby="subs-h"]').getByText('rita@acme.invalid').waitFor(WAIT);

    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.getByLabel('Resolution note').fill('jam cleared, test page printed');
    await page.getByRole('form', { name: 'Resolve' }).getByRole('button', { name: 'Resolve' }).click();
    await page.locator('.badge.status-resolved').waitFor(WAIT);
    await page.getByRole('heading', { name: 'Resolution' }).waitFor(WAIT);
    expect(await page.locator('main').innerText()).toContain('jam cleared, test page printed');

    const entries = await timeline(page);
    for (const action of ['acknowledged', 'commented', 'resolved']) {
      expect(entries.some((e) => e.includes('anna') && e.includes(action)), `${action} by anna in ${JSON.stringify(entries)}`).toBe(true);
    }
    // Resolved: the SLA clocks stop and say whether they were kept.
    expect(await page.locator('main').innerText()).toMatch(/met \(/);
    await page.context().close();
  });

  it('lets an engineer escalate and change the severity with reasons, and shows the daemon’s refusal next to the form', async () => {
    const page = await openAs('erik', `/incidents/${toner}`);
    await page.getByRole('heading', { level: 1, name: /Printer 2nd floor/ }).waitFor(WAIT);

    await page.getByRole('button', { name: 'Escalate', exact: true }).click();
    await page.getByLabel('To tier').selectOption('L2');
    await page.getByLabel('Reason', { exact: true }).fill('needs the print server team');
    await page.getByRole('form', { name: 'Escalate' }).getByRole('button', { name: 'Escalate' }).click();
    await page.getByText('Tier L2').waitFor(WAIT);

    // Nothing changed: the daemon refuses, in its own words, next to the form.
    await page.getByRole('button', { name: 'Change severity or impact' }).click();
    await page.getByLabel('Reason', { exact: true }).fill('no change really');
    await page.getByRole('button', { name: 'Save' }).click();
    const refusal = page.getByRole('form', { name: 'Change severity or impact' }).getByRole('alert');
    await refusal.waitFor(WAIT);
    expect((await refusal.innerText()).length).toBeGreaterThan(5);

    await page.getByLabel('Severity', { exact: true }).selectOption('severe');
    await page.getByLabel('Reason', { exact: true }).fill('all floors print through it');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.badge.sev-severe').waitFor(WAIT);

    const entries = await timeline(page);
    expect(entries.some((e) => e.includes('erik') && e.includes('escalated'))).toBe(true);
    expect(entries.some((e) => e.includes('erik') && e.includes('changed the classification'))).toBe(true);
    const text = await page.locator('main').innerText();
    expect(text).toContain('needs the print server team');
    expect(text).toContain('all floors print through it');
    // The escalation history lists the hand escalation.
    expect(await page.locator('section[aria-labelledby="esc-h"]').innerText()).toContain('needs the print server team');
    // The rule gives medium; the incident is severe now: the why view says where they differ.
    await page.getByText('Severity: incident Severe, rule now Medium').waitFor(WAIT);

    // Anna's resolved incident: an engineer may reopen it, with a reason.
    await page.goto(`${daemon.url}/incidents/${jam}`);
    await page.locator('.badge.status-resolved').waitFor(WAIT);
    await page.getByRole('button', { name: 'Reopen', exact: true }).click();
    await page.getByLabel('Reason', { exact: true }).fill('jams again after the test page');
    await page.getByRole('form', { name: 'Reopen' }).getByRole('button', { name: 'Reopen' }).click();
    await page.locator('.badge.status-open').waitFor(WAIT);
    expect((await timeline(page)).some((e) => e.includes('erik') && e.includes('reopened'))).toBe(true);
    await page.context().close();
  });

  it('shows a manager the incident without any action', async () => {
    const page = await openAs('mona', `/incidents/${toner}`);
    await page.getByRole('heading', { level: 1, name: /Printer 2nd floor/ }).waitFor(WAIT);
    await page.getByText('Your role may look at this incident but not change it.').waitFor(WAIT);
    expect(await page.locator('.actions button').count()).toBe(0);
    expect(await page.locator('.timeline .entry').count()).toBeGreaterThan(0);
    // Live: erik comments elsewhere; the page shows it without a reload, well before its 30 s refresh.
    const res = await fetch(`${daemon.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'erik', password: PASSWORD }) });
    const cookie = res.headers.getSetCookie()[0]!.split(';', 1)[0]!;
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    await page.waitForTimeout(1000); // the event stream is open
    const commented = await fetch(`${daemon.url}/api/v1/incidents/${toner}/comments`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'toner ordered, arrives tomorrow' }),
    });
    expect(commented.status).toBe(201);
    await page.getByText('toner ordered, arrives tomorrow').waitFor({ timeout: 10_000 });
    await page.context().close();
  });

  it('answers another tenant’s incident with the same not-found page as a number that does not exist', async () => {
    const page = await openAs('gustav', `/incidents/${jam}`);
    await page.getByRole('heading', { level: 1, name: 'Incident not found' }).waitFor(WAIT);
    const foreign = await page.locator('main').innerText();
    expect(foreign).not.toContain('Printer');
    await page.goto(`${daemon.url}/incidents/INC-999999`);
    await page.getByRole('heading', { level: 1, name: 'Incident not found' }).waitFor(WAIT);
    expect(await page.locator('main').innerText()).toBe(foreign);
    await page.context().close();
  });

  it('speaks German, fits a 375 px phone screen and has no serious axe findings', async () => {
    const page = await openAs('erik', `/incidents/${toner}`, { locale: 'de-DE', width: 375 });
    await page.getByRole('heading', { name: 'Verlauf', exact: true }).waitFor(WAIT);
    const text = await page.locator('main').innerText();
    for (const expected of ['Aktionen', 'Überblick', 'Servicelevel', 'Annehmen bis', 'Eskalation', 'Auslöser', 'Warum diese Einstufung', 'Schwer', 'Offen']) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('Acknowledge by');
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    // With a form open, too.
    await page.getByRole('button', { name: 'Stummschalten' }).click();
    await page.getByLabel('Für', { exact: true }).waitFor(WAIT);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await screenshot(page, 'incident-detail-de');
    expect(await seriousViolations(page)).toEqual([]);
    // Escape closes the form and gives focus back to its button.
    await page.getByLabel('Begründung', { exact: true }).focus();
    await page.keyboard.press('Escape');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Stummschalten');
    await page.context().close();
  });

  it('silences the incident’s target and check for the chosen time', async () => {
    const page = await openAs('erik', `/incidents/${toner}`);
    await page.getByRole('heading', { level: 1, name: /Printer 2nd floor/ }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Silence', exact: true }).click();
    await page.getByLabel('For', { exact: true }).selectOption('4h');
    await page.getByLabel('Reason', { exact: true }).fill('printer vendor on site');
    await page.getByRole('form', { name: 'Silence' }).getByRole('button', { name: 'Silence' }).click();
    await page.getByText('Done.').waitFor(WAIT);
    expect(await page.getByRole('form', { name: 'Silence' }).count()).toBe(0);
    // The silence holds the incident back at once: the page says so without a reload, long before
    // the escalation sweep would look at the incident again.
    await page.getByText('Silenced: announcements and escalation are held back').waitFor(WAIT);
    const res = await fetch(`${daemon.url}/api/v1/silences`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const body = (await res.json()) as { items: { comment: string; createdBy: string; tenant: string; matchers: { text: string }[]; startsAt: string; endsAt: string }[] };
    const made = body.items.find((s) => s.comment === 'printer vendor on site');
    expect(made?.createdBy).toBe('erik');
    expect(made?.tenant).toBe('acme');
    expect(made?.matchers.map((m) => m.text)).toEqual(['target=printer-2f', 'check=PrinterJam']);
    expect(Date.parse(made!.endsAt) - Date.parse(made!.startsAt)).toBe(4 * 3_600_000);
    await page.context().close();
  });
});
