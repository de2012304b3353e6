// A report that joins a known incident, in the daemon as it runs with a real SMTP server: the
// reporter who joins gets a receipt with the incident's number and status right away (to them
// alone), becomes a subscriber, and hears of the acknowledgement like the first reporter. A report
// about a device the monitoring has an active incident about joins that incident.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startDaemon, type Daemon } from '../portal/harness.js';

interface Session {
  cookie: string;
  csrf: string;
}

describe('a report that joins a known incident', () => {
  let portalRoot: string;
  let daemon: Daemon;

  beforeAll(async () => {
    // The API alone is under test: an empty portal is enough.
    portalRoot = mkdtempSync(join(tmpdir(), 'incidentd-receipt-portal-'));
    writeFileSync(join(portalRoot, 'index.html'), '<!doctype html><title>portal</title>');
    // printer-2f: a printer the monitoring knows (an alert source reports its jams).
    daemon = await startDaemon(portalRoot, {
      smtp: true,
      acmeTargets: `  - id: printer-2f
    name: Printer 2nd floor
    kind: printer
    site: Branch Munich
    checks: []
`,
    });
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    if (portalRoot) rmSync(portalRoot, { recursive: true, force: true });
  });

  async function signIn(name: string): Promise<Session> {
    const res = await fetch(`${daemon.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: PASSWORD }),
    });
    expect(res.status).toBe(201);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  }

  function post(s: Session, path: string, body: unknown): Promise<Response> {
    return fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf },
      body: JSON.stringify(body),
    });
  }

  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  }

  const subjects = (to: string) => daemon.mails.filter((m) => m.to.includes(to)).map((m) => m.mail.headers.get('subject') ?? '');

  it('mails the joining reporter a receipt with the number and status, then the acknowledgement', async () => {
    const rita = await signIn('rita');
    const first = await post(rita, '/api/v1/problem-reports', { category: 'printer', target: 'printer-3f', description: 'Paper jam in tray 2', affected: 'me' });
    expect(first.status).toBe(201);
    const opened = (await first.json()) as { number: string; joined: boolean };
    expect(opened.joined).toBe(false);
    await until('rita’s opening mail', () => subjects('rita@acme.invalid').some((s) => s.includes(opened.number)));

    const erik = await signIn('erik');
    const second = await post(erik, '/api/v1/problem-reports', { category: 'printer', target: 'printer-3f', description: 'Nothing prints', affected: 'me' });
    expect(second.status).toBe(201);
    const joined = (await second.json()) as { number: string; joined: boolean };
    expect(joined).toMatchObject({ number: opened.number, joined: true });

    await until('erik’s receipt', () => subjects('erik@acme.invalid').some((s) => s.includes('Your report was received')));
    const receipt = daemon.mails.find((m) => m.to.includes('erik@acme.invalid'))!;
    expect(receipt.to).toEqual(['erik@acme.invalid']);
    expect(receipt.mail.headers.get('subject')).toContain(`[${opened.number}]`);
    expect(receipt.mail.text).toContain(`Reference: ${opened.number}`);
    expect(receipt.mail.text).toContain('Status:    open');
    // rita got no receipt for erik's report.
    expect(subjects('rita@acme.invalid').filter((s) => s.includes('Your report was received'))).toEqual([]);

    // erik is a subscriber now: the acknowledgement reaches him as it reaches rita.
    const anna = await signIn('anna');
    const ack = await post(anna, `/api/v1/incidents/${opened.number}/ack`, { message: 'On my way with a new roller' });
    expect(ack.status).toBe(200);
    await until('the acknowledgement to erik', () => subjects('erik@acme.invalid').some((s) => s.includes('Acknowledged:')));
    expect(subjects('rita@acme.invalid').some((s) => s.includes('Acknowledged:'))).toBe(true);
  }, 60_000);

  async function incidentsOn(s: Session, target: string): Promise<string[]> {
    const res = await fetch(`${daemon.url}/api/v1/incidents?target=${target}&status=open&limit=50`, { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: { number: string }[] }).items.map((i) => i.number);
  }

  it('joins the incident the monitoring opened about the device the reporter picked', async () => {
    const anna = await signIn('anna');
    expect((await daemon.alert({ alerts: [{ name: 'PrinterJam', target: { id: 'printer-2f', name: 'Printer 2nd floor' }, status: 'firing' }] })).status).toBe(200);
    let monitored: string[] = [];
    for (let i = 0; i < 400 && monitored.length === 0; i++) {
      monitored = await incidentsOn(anna, 'printer-2f');
      if (monitored.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(monitored).toHaveLength(1);

    // The form offers the device (of the reporter's own tenant) to pick.
    const rita = await signIn('rita');
    const form = (await (await fetch(`${daemon.url}/api/v1/problem-reports/form`, { headers: { cookie: rita.cookie } })).json()) as { targets: { id: string }[] };
    expect(form.targets.map((t) => t.id)).toContain('printer-2f');
    expect(form.targets.map((t) => t.id)).not.toContain('globex-vpn');

    const res = await post(rita, '/api/v1/problem-reports', { category: 'printer', target: 'printer-2f', description: 'The 2nd floor printer shows a jam', affected: 'me' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ number: monitored[0], joined: true, affected: 1 });
    // Still the one incident about the printer, now with rita on it.
    expect(await incidentsOn(anna, 'printer-2f')).toEqual(monitored);
    const incident = (await (await fetch(`${daemon.url}/api/v1/incidents/${monitored[0]}`, { headers: { cookie: anna.cookie } })).json()) as {
      subscribers: string[];
      timeline: { action: string; actor: string }[];
    };
    expect(incident.subscribers).toContain('rita@acme.invalid');
    expect(incident.timeline.some((e) => e.action === 'reported' && e.actor === 'rita')).toBe(true);
    await until('rita’s receipt for the monitored printer', () =>
      subjects('rita@acme.invalid').some((s) => s.includes(`[${monitored[0]}] Your report was received`)),
    );

    // A report about the device without a picked device opens its own incident, as before.
    const other = await post(rita, '/api/v1/problem-reports', { category: 'printer', site: 'Branch Munich', description: 'Some printer is broken', affected: 'me' });
    expect(other.status).toBe(201);
    expect(((await other.json()) as { number: string }).number).not.toBe(monitored[0]);
  }, 60_000);
});
