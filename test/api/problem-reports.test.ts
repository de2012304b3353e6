// Problem reports over a real socket against the real daemon (the portal e2e harness without a
// browser or a built portal): a report opens an incident through the rules, a second one about the
// same printer joins it and counts the person, "the whole site" raises the impact, field errors
// name the field, a person sees only his own reports, and a reporter cannot read the incidents.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startDaemon, type Daemon } from '../portal/harness.js';

let daemon: Daemon;
let emptyPortal: string;

beforeAll(async () => {
  emptyPortal = mkdtempSync(join(tmpdir(), 'incidentd-no-portal-'));
  daemon = await startDaemon(emptyPortal);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  rmSync(emptyPortal, { recursive: true, force: true });
});

interface Person {
  call(method: string, path: string, body?: unknown): Promise<Response>;
}

async function signIn(name: string): Promise<Person> {
  const res = await fetch(`${daemon.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: PASSWORD }),
  });
  expect(res.status).toBe(201);
  const cookie = res.headers.getSetCookie()[0]!.split(';', 1)[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return {
    call: (method, path, body) =>
      fetch(`${daemon.url}${path}`, {
        method,
        headers: { cookie, 'x-csrf-token': csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
  };
}

interface Filed {
  id: string;
  number: string | null;
  joined: boolean;
  affected: number;
  hint: string | null;
}

describe('problem reports', () => {
  it('opens an incident through the rules, and a second report about the same printer joins it', async () => {
    const rita = await signIn('rita');
    const erik = await signIn('erik');
    const form = (await (await rita.call('GET', '/api/v1/problem-reports/form')).json()) as {
      categories: { id: string; hint: string | null }[];
      targets: { id: string; tenant: string }[];
    };
    expect(form.categories.find((c) => c.id === 'printer')?.hint).toContain('paper jam');
    // Only acme's devices: rita belongs to acme.
    expect(form.targets.map((t) => t.tenant)).not.toContain('globex');

    const first = await rita.call('POST', '/api/v1/problem-reports', { category: 'printer', target: 'printer-3f', description: 'prints nothing', affected: 'me' });
    expect(first.status).toBe(201);
    const a = (await first.json()) as Filed;
    expect(a).toMatchObject({ joined: false, affected: 1 });
    expect(a.number).toMatch(/^INC-\d+$/);
    expect(a.hint).toContain('paper jam');

    const second = await erik.call('POST', '/api/v1/problem-reports', { category: 'printer', target: 'printer-3f', description: 'same here', affected: 'site' });
    expect(second.status).toBe(201);
    const b = (await second.json()) as Filed;
    expect(b).toMatchObject({ number: a.number, joined: true, affected: 2 });

    // One incident, its impact raised to the site by "the whole site", with both people on the timeline.
    const incident = (await (await erik.call('GET', `/api/v1/incidents/${a.number}`)).json()) as { impact: string; timeline: { action: string; actor: string }[] };
    expect(incident.impact).toBe('site');
    expect(incident.timeline.filter((e) => e.action === 'reported').map((e) => e.actor).sort()).toEqual(['erik', 'rita']);

    // Each sees his own report only; another person's report id is not found.
    const mine = (await (await rita.call('GET', '/api/v1/problem-reports')).json()) as { items: { id: string; incident: { number: string } | null }[] };
    expect(mine.items.map((r) => r.id)).toEqual([a.id]);
    expect(mine.items[0]!.incident?.number).toBe(a.number);
    expect((await rita.call('GET', `/api/v1/problem-reports/${b.id}`)).status).toBe(404);
    expect((await erik.call('GET', `/api/v1/problem-reports/${b.id}`)).status).toBe(200);
  });

  it('names the field that is wrong, and hides another tenant’s devices like unknown ones', async () => {
    const rita = await signIn('rita');
    const empty = await rita.call('POST', '/api/v1/problem-reports', { category: 'printer', description: '', affected: 'me' });
    expect(empty.status).toBe(400);
    const body = (await empty.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field)).toContain('description');

    const foreign = await rita.call('POST', '/api/v1/problem-reports', { category: 'other', target: 'globex-vpn', description: 'vpn', affected: 'me' });
    const unknown = await rita.call('POST', '/api/v1/problem-reports', { category: 'other', target: 'no-such-device', description: 'vpn', affected: 'me' });
    expect([foreign.status, unknown.status]).toEqual([400, 400]);
    const words = async (r: Response) => ((await r.json()) as { message: string }).message.replace(/"[^"]*"/g, 'X');
    expect(await words(foreign)).toBe(await words(unknown));
  });

  it('lets a reporter file and follow reports but not read the incidents', async () => {
    const rita = await signIn('rita');
    expect((await rita.call('GET', '/api/v1/incidents')).status).toBe(403);
    expect((await rita.call('GET', '/api/v1/problem-reports')).status).toBe(200);
  });
});
