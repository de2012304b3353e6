// `incidentd demo` end to end at 5× speed: the real daemon against the simulated devices; the
// printer jams and is cleared, and the incident it caused opens and resolves, seen through the API.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoError, runDemo, type Demo } from '../../src/demo/run.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

let demo: Demo | null = null;
afterEach(async () => {
  await demo?.stop();
  demo = null;
});

async function api(path: string): Promise<any> {
  const res = await fetch(`${demo!.url}${path}`, { headers: { authorization: `Bearer ${demo!.token}` } });
  expect(res.status).toBe(200);
  return res.json();
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('incidentd demo', () => {
  it('shows a jam on top of low toner as two incidents; clearing the jam resolves only the jam', async () => {
    const lines: string[] = [];
    demo = await runDemo({ speed: 5, clock: new SystemClock(), logger: silentLogger(), print: (l) => lines.push(l) });
    const { dir, url, token } = demo;
    expect(lines.join('\n')).toContain(`API ${url}   token ${token}`);
    // The generated config points at a temp SQLite file and the shipped rules came along.
    expect(readFileSync(join(dir, 'config', 'incidentd.yaml'), 'utf8')).toContain(join(dir, 'data', 'incidentd.db'));
    expect(existsSync(join(dir, 'rules', 'devices.yaml'))).toBe(true);

    // Without the token the API stays closed.
    expect((await fetch(`${url}/api/v1/incidents`)).status).toBe(401);

    const both = await until('the jam incident to open next to the toner incident', async () => {
      const body = await api('/api/v1/incidents?status=open');
      const jam = body.items.find((i: any) => i.ruleId === 'printer-jammed');
      const toner = body.items.find((i: any) => i.ruleId === 'printer-supplies-low');
      return jam && toner ? { jam, toner } : null;
    });
    const { jam, toner } = both;
    expect(jam).toMatchObject({
      title: 'Accounting printer: paper jam or door open',
      severity: 'medium',
      tier: 'L1',
      category: 'device.printer',
      target: { id: 'demo-printer', kind: 'printer' },
    });
    expect(jam.lastMessage).toContain('jammed');
    expect(toner).toMatchObject({ severity: 'minor', target: { id: 'demo-printer' } });
    expect(toner.title).toContain('toner at 6%');
    expect(lines.some((l) => l.startsWith('breaking: the printer jams on top of its low toner'))).toBe(true);

    const jamResolved = await until('the jam incident to resolve', async () => {
      const body = await api(`/api/v1/incidents/${jam.number}`);
      return body.status === 'resolved' ? body : null;
    });
    expect(jamResolved.timeline.map((e: any) => e.action)).toEqual(['opened', 'resolved']);
    // The toner incident lived on until the new cartridge, after the jam was cleared.
    const tonerResolved = await until('the toner incident to resolve', async () => {
      const body = await api(`/api/v1/incidents/${toner.number}`);
      return body.status === 'resolved' ? body : null;
    });
    expect(tonerResolved.timeline.map((e: any) => e.action)).toEqual(['opened', 'resolved']);
    expect(Date.parse(tonerResolved.resolvedAt)).toBeGreaterThan(Date.parse(jamResolved.resolvedAt));
    // The demo's own watcher announces it on its next look at the store.
    await until('the resolution to be announced', async () => lines.find((l) => l.includes(`${jam.number} resolved by itself`)));

    await demo.stop();
    demo = null;
    // Everything is gone: the API refuses connections and the temp folder is removed.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps a folder it was given, with config, probes, rules and the database, after stopping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'incidentd-demo-test-'));
    try {
      demo = await runDemo({ dir, speed: 5, clock: new SystemClock(), logger: silentLogger(), print: () => undefined });
      expect((await fetch(`${demo.url}/healthz`)).status).toBe(200);
      await demo.stop();
      demo = null;
      for (const f of ['config/incidentd.yaml', 'probes/demo.yaml', 'rules/00-demo.yaml', 'rules/services.yaml', 'data/incidentd.db'])
        expect(existsSync(join(dir, f)), f).toBe(true);
      expect(readFileSync(join(dir, 'probes', 'demo.yaml'), 'utf8')).toContain('type: wifi-ap');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a speed that is not above 0', async () => {
    await expect(runDemo({ speed: 0, clock: new SystemClock(), logger: silentLogger(), print: () => undefined })).rejects.toThrow(DemoError);
    await expect(runDemo({ speed: -2, clock: new SystemClock(), logger: silentLogger(), print: () => undefined })).rejects.toThrow(
      'speed must be a number above 0',
    );
  });
});
