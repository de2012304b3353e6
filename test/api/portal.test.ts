// The portal's files on the API's port: / and the pages of the portal answer index.html (never
// cached without asking), hashed assets are cached for a year and sent compressed to browsers that
// accept it, and the API, /metrics and missing assets keep their JSON 404s.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi, type Harness } from './harness.js';
import { makeStore } from './store.js';
import { buildApi } from '../../src/api/server.js';
import { createMetrics } from '../../src/api/metrics.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { registeredRoutes } from '../../src/api/openapi.js';
import { declaredAccess } from '../../src/api/auth.js';
import type { FastifyInstance } from 'fastify';
import type { IncidentStore } from '../../src/store/types.js';
import { OPS_TOKEN, storeCommands } from './harness.js';

const INDEX = '<!doctype html><html lang="en"><head><title>incidentd</title></head><body><div id="app"></div></body></html>';
const SCRIPT = 'console.log("portal");'.repeat(50);

describe('the portal’s files', () => {
  let dir: string;
  let store: IncidentStore;
  let app: FastifyInstance;
  let base: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'incidentd-portal-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'index-AbC123.js'), SCRIPT);
    await writeFile(join(dir, 'assets', 'index-AbC123.js.gz'), gzipSync(SCRIPT));
    store = await makeStore();
    const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
    app = buildApi({
      store,
      commands: storeCommands(store, clock),
      tokens: () => [OPS_TOKEN],
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger: silentLogger(),
      clock,
      portal: { root: dir },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers / and every page of the portal with index.html, revalidated on each load', async () => {
    for (const path of ['/', '/status/acme', '/incidents/INC-000001?tab=timeline', '/metrics/extra']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expect(await res.text(), path).toBe(INDEX);
    }
  });

  it('sends hashed assets cached for a year, gzip-compressed when the browser accepts it', async () => {
    const plain = await fetch(`${base}/assets/index-AbC123.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await plain.text()).toBe(SCRIPT);

    // Node's fetch would unpack it; a raw request shows what is on the wire.
    const { request } = await import('node:http');
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(`${base}/assets/index-AbC123.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(raw.encoding).toBe('gzip');
    expect(raw.body.length).toBeLessThan(SCRIPT.length);
    expect(gunzipSync(raw.body).toString()).toBe(SCRIPT);
  });

  it('keeps JSON answers for the API, the operations routes and missing assets', async () => {
    const api = await fetch(`${base}/api/v1/nope`, { headers: { authorization: `Bearer ${OPS_TOKEN.token}` } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: 'not_found' });
    // Under /api/ a stranger still has to sign in first.
    expect((await fetch(`${base}/api/v1/nope`)).status).toBe(401);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
    const asset = await fetch(`${base}/assets/gone-123.js`);
    expect(asset.status).toBe(404);
    expect(await asset.json()).toMatchObject({ error: 'not_found' });
    const post = await fetch(`${base}/status/acme`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  it('declares its routes public and leaves them out of the API description', () => {
    const access = declaredAccess(app);
    expect(access.get('GET /')).toBe('public');
    expect(access.get('GET /assets/*')).toBe('public');
    expect(registeredRoutes(app).filter((r) => r === 'GET /' || r.startsWith('GET /assets'))).toEqual([]);
  });
});

describe('without a built portal', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startApi(await makeStore());
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers / with the JSON 404 as before', async () => {
    const res = await fetch(`${h.base}/`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});
