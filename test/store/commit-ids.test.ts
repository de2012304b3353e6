// The manager names each batch it commits (CommitOptions.id) and keeps that name through its
// retries, which is what lets a store recognise a batch whose answer was lost (MongoDB records the
// id with the batch: test/store/mongo.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { CommitOptions, IncidentStore } from '../../src/store/types.js';
import { active, harness, rule, sig, target, type Harness } from '../incidents/harness.js';

const T0 = Date.UTC(2026, 0, 1, 8);
const ping = rule({ id: 'server-unreachable', when: 'target.kind == "server" && check.type == "icmp"' });

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe('batch ids', () => {
  it('retries a failed batch under the same id, and names the next batch anew', async () => {
    const calls: { id: string | undefined; failed: boolean }[] = [];
    let failures = 2;
    const wrap = (s: IncidentStore): IncidentStore =>
      new Proxy(s, {
        get(obj, prop, recv) {
          if (prop === 'commit') {
            return (ops: Parameters<IncidentStore['commit']>[0], options?: CommitOptions) => {
              const failed = failures > 0;
              calls.push({ id: options?.id, failed });
              if (failed) {
                failures--;
                return Promise.reject(new Error('connection reset'));
              }
              return obj.commit(ops, options);
            };
          }
          const v = Reflect.get(obj, prop, recv);
          return typeof v === 'function' ? v.bind(obj) : v;
        },
      });
    h = await harness({ rules: [ping], wrapStore: wrap });
    await h.manager.submit(sig(target('web-1'), 'fail', T0));
    await h.manager.submit(sig(target('web-1'), 'fail', T0 + 1));
    const batches = calls.filter((c) => c.id !== undefined);
    expect(batches.length).toBeGreaterThanOrEqual(4);
    const [a, b, c, d] = batches;
    expect([a!.failed, b!.failed, c!.failed]).toEqual([true, true, false]);
    // Three tries of the first batch, one name.
    expect(new Set([a!.id, b!.id, c!.id]).size).toBe(1);
    expect(d!.id).not.toBe(a!.id);
    expect((await active(h.store))[0]!.occurrences).toBe(2);
  });
});
