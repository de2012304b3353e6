// Human commands during a store outage: the manager keeps retrying a failed batch commit, but an
// acknowledge sent through the real API must not wait behind that loop. It is answered within a
// second: 503 with Retry-After, and nothing changed, so the person can simply send it again.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore, StoreOp, OpResult } from '../../src/store/types.js';
import { ROUTING_KEY, alertServer, type AlertServer } from '../sources/harness.js';
import { harness, rule, sig, target, type Harness } from './harness.js';

const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
const ping = rule({ id: 'server-unreachable', when: 'target.kind == "server" && check.type == "icmp"' });
const TOKEN = { name: 'ops-team', token: 'tok-ops-outage-1' };

/** A store whose batch commits can be made to fail (`failing`) or to hang until released (`block`). */
function outage(store: IncidentStore) {
  const state = { failing: false, blocked: null as Promise<void> | null, release: () => undefined as void, attempts: 0 };
  const wrapped = new Proxy(store, {
    get(obj, prop, recv) {
      if (prop === 'commit') {
        return async (ops: StoreOp[]): Promise<OpResult[]> => {
          if (state.failing) {
            state.attempts++;
            throw new Error('connection refused (test outage)');
          }
          if (state.blocked) {
            state.attempts++;
            await state.blocked;
          }
          return obj.commit(ops);
        };
      }
      const v = Reflect.get(obj, prop, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
    },
  });
  return {
    store: wrapped,
    state,
    block() {
      state.blocked = new Promise<void>((r) => (state.release = () => r()));
    },
    unblock() {
      state.release();
      state.blocked = null;
    },
  };
}

let h: Harness | null = null;
let api: FastifyInstance | null = null;
let alerts: AlertServer | null = null;
let o: ReturnType<typeof outage> | null = null;
afterEach(async () => {
  if (o) {
    o.state.failing = false;
    o.unblock();
  }
  await api?.close();
  await h?.close();
  await alerts?.close();
  h = null;
  api = null;
  alerts = null;
  o = null;
});

async function setup(): Promise<string> {
  h = await harness({
    rules: [ping],
    clock: new SystemClock(),
    wrapStore: (s) => {
      o = outage(s);
      return o.store;
    },
  });
  api = buildApi({
    store: h.store,
    commands: h.manager,
    tokens: () => [TOKEN],
    ready: async () => ({ ready: true, checks: {} }),
    metrics: createMetrics({ countActive: () => h!.store.countActive() }),
    logger: silentLogger(),
    clock: new SystemClock(),
  });
  return api.listen({ host: '127.0.0.1', port: 0 });
}

/** POSTs an acknowledge; gives up (status 0) after 3 s, far longer than the answer may take. */
async function ack(base: string, number: string) {
  const started = performance.now();
  try {
    const res = await fetch(`${base}/api/v1/incidents/${number}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'on it' }),
      signal: AbortSignal.timeout(3000),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { message: string }, ms: performance.now() - started };
  } catch {
    return { status: 0, retryAfter: null, body: { message: 'no answer' }, ms: performance.now() - started };
  }
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('human commands during a store outage', () => {
  it('answers an acknowledge 503 with Retry-After within a second while batch commits fail and are retried', async () => {
    const base = await setup();
    await h!.manager.submit(sig(target('web-1'), 'fail', T0));
    o!.state.failing = true;
    // A probe result arrives: its batch commit fails and the manager keeps retrying it.
    const pending = h!.manager.submit(sig(target('web-2'), 'fail', T0 + 1000));
    await until('a failed commit', () => o!.state.attempts > 0);

    const res = await ack(base, 'INC-000001');
    expect(res.status).toBe(503);
    expect(res.ms).toBeLessThan(1000);
    expect(res.retryAfter).not.toBeNull();
    expect(res.body.message).toMatch(/store/);

    // Nothing was done: once the store is back the retried batch commits and the same
    // acknowledge succeeds.
    o!.state.failing = false;
    await pending;
    const again = await ack(base, 'INC-000001');
    expect(again.status).toBe(200);
    expect((await h!.store.get('INC-000001'))!.status).toBe('acknowledged');
    expect((await h!.store.get('INC-000001'))!.timeline.filter((e) => e.action === 'acknowledged')).toHaveLength(1);
  });

  it('answers 503 within a second while a batch commit hangs in the store', async () => {
    const base = await setup();
    await h!.manager.submit(sig(target('web-1'), 'fail', T0));
    o!.block();
    const pending = h!.manager.submit(sig(target('web-2'), 'fail', T0 + 1000));
    await until('a commit in the store', () => o!.state.attempts > 0);

    const res = await ack(base, 'INC-000001');
    expect(res.status).toBe(503);
    expect(res.ms).toBeLessThan(1000);
    expect(res.retryAfter).not.toBeNull();

    o!.unblock();
    await pending;
    // The refused command did not run later behind the batch.
    await h!.manager.flush();
    expect((await h!.store.get('INC-000001'))!.status).toBe('open');
    expect((await ack(base, 'INC-000001')).status).toBe(200);
  });

  it('answers a PagerDuty acknowledge event 503 with Retry-After within a second while commits fail', async () => {
    alerts = await alertServer({
      wrapStore: (store) => {
        o = outage(store);
        return o.store;
      },
    });
    const trigger = (key: string) => ({ routing_key: ROUTING_KEY, dedup_key: key, event_action: 'trigger', payload: { summary: `${key} down`, source: 'host1.example.com', severity: 'error' } });
    expect((await alerts.post('/v2/enqueue', trigger('db-primary'))).status).toBe(202);
    o!.state.failing = true;
    const pending = alerts.post('/v2/enqueue', trigger('db-replica'));
    await until('a failed commit', () => o!.state.attempts > 0);

    const started = performance.now();
    const ack = await alerts.post('/v2/enqueue', { routing_key: ROUTING_KEY, dedup_key: 'db-primary', event_action: 'acknowledge' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(ack.status).toBe(503);
    expect(ack.headers.get('retry-after')).not.toBeNull();
    expect((await alerts.active()).map((i) => i.status)).toEqual(['open']);

    o!.state.failing = false;
    expect((await pending).status).toBe(202);
    expect((await alerts.post('/v2/enqueue', { routing_key: ROUTING_KEY, dedup_key: 'db-primary', event_action: 'acknowledge' })).status).toBe(202);
    expect((await alerts.active()).map((i) => i.status).sort()).toEqual(['acknowledged', 'open']);
  });
});
