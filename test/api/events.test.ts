// GET /api/v1/events against the real daemon (createApp) on loopback, with people of two tenants
// signed in by cookie: each hears of its own tenant's incident changes (opened by an alert,
// acknowledged and commented by a person) and never of the other's; a reporter may not listen; the
// streams per person are capped, and one that disconnects frees its place; stop() ends open streams
// instead of waiting for them, even after clients left sockets open that never sent a request.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/api/session.js';
import { API_TOKEN, PASSWORD, startDaemon, type Daemon } from '../portal/harness.js';
import { openEvents, type EventStream } from './sse.js';

interface Browser {
  cookie: string;
  csrf: string;
}

describe('live incident events over a real socket', () => {
  let daemon: Daemon;
  let noPortal: string;
  const opened: EventStream[] = [];

  async function signIn(name: string): Promise<Browser> {
    const res = await fetch(`${daemon.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: PASSWORD }),
    });
    expect(res.status).toBe(201);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!.split(';', 1)[0]!;
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  }

  async function listen(who: Browser): Promise<EventStream> {
    const s = await openEvents(`${daemon.url}/api/v1/events`, { cookie: who.cookie });
    opened.push(s);
    return s;
  }

  const jam = (target: string) => ({ alerts: [{ name: 'PrinterJam', target: { id: target, name: target }, status: 'firing' }] });

  beforeAll(async () => {
    // No built portal: the API alone.
    noPortal = mkdtempSync(join(tmpdir(), 'incidentd-no-portal-'));
    daemon = await startDaemon(noPortal);
  }, 60_000);

  afterAll(async () => {
    for (const s of opened) s.close();
    await daemon?.stop();
    rmSync(noPortal, { recursive: true, force: true });
  });

  it('tells each person of their own tenant\'s changes, with number, tenant, status, change and time only', async () => {
    const anna = await signIn('anna');
    const gustav = await signIn('gustav');
    const acme = await listen(anna);
    const globex = await listen(gustav);
    expect(acme.status).toBe(200);
    expect(acme.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(acme.headers.get('cache-control')).toBe('no-store');

    expect((await daemon.alert(jam('printer-3f'))).status).toBe(200);
    const open = await acme.waitFor((e) => e['change'] === 'opened');
    expect(Object.keys(open).sort()).toEqual(['at', 'change', 'number', 'status', 'tenant']);
    expect(open).toMatchObject({ tenant: 'acme', status: 'open', change: 'opened' });
    expect(String(open['number'])).toMatch(/^INC-\d+$/);
    expect(Number.isNaN(Date.parse(String(open['at'])))).toBe(false);

    expect((await daemon.globexAlert(jam('globex-vpn'))).status).toBe(200);
    const theirs = await globex.waitFor((e) => e['change'] === 'opened');
    expect(theirs).toMatchObject({ tenant: 'globex', status: 'open' });

    // A person's actions are changes too.
    const number = String(open['number']);
    const headers = { cookie: anna.cookie, 'x-csrf-token': anna.csrf, 'content-type': 'application/json' };
    expect((await fetch(`${daemon.url}/api/v1/incidents/${number}/ack`, { method: 'POST', headers, body: '{}' })).status).toBe(200);
    expect((await fetch(`${daemon.url}/api/v1/incidents/${number}/comments`, { method: 'POST', headers, body: JSON.stringify({ text: 'paper ordered' }) })).status).toBe(201);
    await acme.waitFor((e) => e['change'] === 'acknowledged' && e['status'] === 'acknowledged' && e['number'] === number);
    await acme.waitFor((e) => e['change'] === 'commented' && e['number'] === number);

    // Neither heard anything of the other tenant.
    expect(acme.events.every((e) => e['tenant'] === 'acme')).toBe(true);
    expect(acme.raw()).not.toContain(String(theirs['number']));
    expect(globex.events.every((e) => e['tenant'] === 'globex')).toBe(true);
    expect(globex.raw()).not.toContain(number);
    // An MSP manager sees both.
    const mona = await listen(await signIn('mona'));
    expect((await daemon.alert({ alerts: [{ name: 'TonerLow', target: { id: 'printer-3f', name: 'Printer 3rd floor' }, status: 'firing' }] })).status).toBe(200);
    expect((await daemon.globexAlert({ alerts: [{ name: 'TonerLow', target: { id: 'globex-vpn', name: 'VPN' }, status: 'firing' }] })).status).toBe(200);
    await mona.waitFor((e) => e['tenant'] === 'acme');
    await mona.waitFor((e) => e['tenant'] === 'globex');
    for (const s of [acme, globex, mona]) s.close();
  });

  it('refuses a reporter (403) and a visitor who is not signed in (401)', async () => {
    const rita = await listen(await signIn('rita'));
    expect(rita.status).toBe(403);
    expect(rita.errorBody).toContain('incidents.read');
    const nobody = await openEvents(`${daemon.url}/api/v1/events`, {});
    expect(nobody.status).toBe(401);
    // An API token with role read may listen.
    const reader = await openEvents(`${daemon.url}/api/v1/events`, { authorization: `Bearer ${API_TOKEN}` });
    expect(reader.status).toBe(200);
    reader.close();
  });

  it('caps the streams of one person with a clear 429, and a stream that disconnects frees its place', async () => {
    const erik = await signIn('erik');
    const streams: EventStream[] = [];
    for (let i = 0; i < 8; i++) streams.push(await listen(erik));
    expect(streams.map((s) => s.status)).toEqual(Array(8).fill(200));
    const ninth = await listen(erik);
    expect(ninth.status).toBe(429);
    expect(ninth.headers.get('retry-after')).toBe('30');
    expect(JSON.parse(ninth.errorBody)).toMatchObject({ error: 'too_many_requests' });
    expect(JSON.parse(ninth.errorBody).message).toContain('user "erik" has 8 live event streams open already (at most 8)');
    // Closing one in the browser (a tab closed) frees a place once the daemon sees the socket go.
    streams[0]!.close();
    await expect
      .poll(async () => {
        const again = await listen(erik);
        again.close();
        return again.status;
      }, { timeout: 10_000 })
      .toBe(200);
    for (const s of streams) s.close();
  });

  it('stop() ends the open streams instead of waiting for them', async () => {
    const anna = await listen(await signIn('anna'));
    expect(anna.status).toBe(200);
    await daemon.stop();
    // The stream ended cleanly: nothing more arrives, and the daemon is gone.
    await expect(fetch(`${daemon.url}/healthz`)).rejects.toThrow();
  }, 30_000);
});
