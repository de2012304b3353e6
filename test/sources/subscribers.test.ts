// Subscribers that alerts and the API bring, over real HTTP on a real SQLite store: addresses are
// checked (syntax, RFC 5321 lengths), an incident keeps at most incidents.max_subscribers however
// many batches bring them, and a source may be refused the right to add any.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { GENERIC_TOKEN, RULES, SOURCES, alertServer, source, type AlertServer } from './harness.js';
import { harness, policy } from '../incidents/harness.js';

let s: AlertServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const alert = (subscribers: string[]) => ({ name: 'DiskFull', target: 'srv-1', status: 'firing', subscribers });
const addresses = (from: number, n: number) => Array.from({ length: n }, (_, i) => `user${from + i}@example.org`);

describe('subscribers from alerts', () => {
  it('keeps at most incidents.max_subscribers across batches; the rest are dropped with one timeline note', async () => {
    s = await alertServer({ policy: { ...policy, maxSubscribers: 30 } });
    // 100 batches of 20 new addresses: 2,000 in all, as in the report.
    for (let b = 0; b < 100; b++) {
      const r = await s.post('/api/v1/alerts', { alerts: [alert(addresses(b * 20, 20))] }, { token: GENERIC_TOKEN });
      expect(r.status).toBe(200);
    }
    const [inc] = await s.active();
    const full = (await s.h.store.get(inc!.number))!;
    expect(full.subscribers).toEqual(addresses(0, 30));
    const notes = full.timeline.filter((t) => t.action === 'subscribers-limit');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toMatch(/at most 30 subscribers \(incidents\.max_subscribers\); 10 more addresses were not added/);
  });

  it('refuses addresses longer than RFC 5321 allows, naming the field', async () => {
    s = await alertServer();
    const longLocal = `${'a'.repeat(65)}@example.org`;
    const longTotal = `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(60)}.org`;
    expect(longTotal.length).toBeGreaterThan(254);
    const r = await s.post('/api/v1/alerts', { alerts: [alert(['ok@example.org', longLocal, longTotal, 'not an address'])] }, { token: GENERIC_TOKEN });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([
      { field: 'alerts[0].subscribers[1]', message: 'the part before @ must be at most 64 characters (RFC 5321), got 65' },
      { field: 'alerts[0].subscribers[2]', message: `must be at most 254 characters (RFC 5321), got ${longTotal.length}` },
      { field: 'alerts[0].subscribers[3]', message: 'must be a mail address like alice@example.org' },
    ]);
    expect(await s.all()).toHaveLength(0);
  });

  it('a source with allow_subscribers: false gets a 400 for alerts that name subscribers; others are unaffected', async () => {
    s = await alertServer({
      sources: [source({ id: 'webhook', type: 'generic', tokens: [GENERIC_TOKEN], allowSubscribers: false }), ...SOURCES.slice(1)],
    });
    const r = await s.post('/api/v1/alerts', { alerts: [alert(['alice@example.org'])] }, { token: GENERIC_TOKEN });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([
      { field: 'alerts[0].subscribers', message: 'source "webhook" may not add subscribers (allow_subscribers: false); leave the field out' },
    ]);
    expect(await s.all()).toHaveLength(0);
    const plain = await s.post('/api/v1/alerts', { alerts: [{ name: 'DiskFull', target: 'srv-1', status: 'firing' }] }, { token: GENERIC_TOKEN });
    expect(plain.status).toBe(200);
  });
});

describe('POST /api/v1/incidents/:number/subscribers', () => {
  it('answers 409 past incidents.max_subscribers, 400 for an overlong address, and keeps an address already there', async () => {
    const h = await harness({ rules: RULES, policy: { ...policy, maxSubscribers: 3 } });
    const app = buildApi({
      store: h.store,
      commands: h.manager,
      tokens: () => [{ name: 'ops', token: 'tok-ops' }],
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => h.store.countActive() }),
      logger: silentLogger(),
      clock: new FakeClock(),
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      await h.manager.alertIngest().submitMany([
        { source: 'webhook', target: { id: 'srv-1', kind: 'server', name: 'srv-1', site: '', labels: {}, dependsOn: [] }, check: { name: 'DiskFull', type: 'generic' }, status: 'fail', message: 'full', values: {}, labels: {}, annotations: {}, at: Date.now() },
      ]);
      const [inc] = (await h.store.list({}, 10)).items;
      const add = (address: string) =>
        fetch(`${base}/api/v1/incidents/${inc!.number}/subscribers`, {
          method: 'POST',
          headers: { authorization: 'Bearer tok-ops', 'content-type': 'application/json' },
          body: JSON.stringify({ address }),
        });
      for (const a of addresses(0, 3)) expect((await add(a)).status).toBe(201);
      const over = await add('late@example.org');
      expect(over.status).toBe(409);
      expect(((await over.json()) as { message: string }).message).toMatch(/already keeps 3 subscribers.*incidents\.max_subscribers/);
      // Already subscribed: no change, no error.
      expect((await add('user1@example.org')).status).toBe(201);
      const long = await add(`${'a'.repeat(65)}@example.org`);
      expect(long.status).toBe(400);
      expect(((await long.json()) as { issues: unknown }).issues).toEqual([
        { field: 'address', message: 'the part before @ must be at most 64 characters (RFC 5321), got 65' },
      ]);
      expect((await h.store.get(inc!.number))!.subscribers).toEqual(addresses(0, 3));
    } finally {
      await app.close();
      await h.close();
    }
  });
});

describe('incidents.max_subscribers and allow_subscribers in config/incidentd.yaml', () => {
  async function load(yaml: string) {
    const dir = await mkdtemp(path.join(tmpdir(), 'incidentd-subs-'));
    try {
      await writeFile(path.join(dir, 'incidentd.yaml'), yaml);
      await mkdir(path.join(dir, 'probes'));
      await mkdir(path.join(dir, 'rules'));
      return await loadConfig({ config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') }, {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('defaults to 50 and true; both can be set; allow_subscribers is a key of generic sources only', async () => {
    const defaults = await load('sources:\n  - { id: hook, type: generic, tokens: [t1] }\n');
    expect(defaults.daemon.incidents.maxSubscribers).toBe(50);
    expect(defaults.daemon.sources[0]!.allowSubscribers).toBe(true);
    const set = await load('incidents:\n  max_subscribers: 5\nsources:\n  - { id: hook, type: generic, tokens: [t1], allow_subscribers: false }\n');
    expect(set.daemon.incidents.maxSubscribers).toBe(5);
    expect(set.daemon.sources[0]!.allowSubscribers).toBe(false);
    await expect(load('sources:\n  - { id: am, type: alertmanager, tokens: [t1], allow_subscribers: true }\n')).rejects.toThrow(/allow_subscribers/);
    await expect(load('incidents:\n  max_subscribers: -1\n')).rejects.toThrow(/incidentd\.yaml:2:\d+/);
  });
});
