import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getProbeKind, probeKinds, UnknownProbeKindError } from '../../src/probe-kinds/registry.js';
import { runProbe } from '../../src/probe-kinds/run.js';
import type { ProbeKind } from '../../src/probe-kinds/types.js';
import { closedPort } from './helpers.js';

function kindRunning(run: ProbeKind['run']): ProbeKind {
  return { type: 'test', schema: z.strictObject({}), defaultName: () => 'test', run };
}
const noSignal = () => new AbortController().signal;

describe('runProbe', () => {
  it('passes an ok result through with its values', async () => {
    const kind = kindRunning(async () => ({ status: 'ok', message: 'fine', latencyMs: 3, values: { x: 1 } }));
    const r = await runProbe(kind, {}, { timeoutMs: 1000, signal: noSignal() });
    expect(r).toEqual({ status: 'ok', message: 'fine', latencyMs: 3, values: { x: 1 } });
  });

  it('turns an exception inside a kind into a fail result carrying the error message', async () => {
    const kind = kindRunning(async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    const r = await runProbe(kind, {}, { timeoutMs: 1000, signal: noSignal() });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('cannot read properties of undefined');
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('turns a synchronous throw into a fail result too', async () => {
    const kind = kindRunning(() => {
      throw new Error('sync bug');
    });
    const r = await runProbe(kind, {}, { timeoutMs: 1000, signal: noSignal() });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('sync bug');
  });

  it('abandons a kind that ignores its timeout and reports a timeout', async () => {
    let sawAbort = false;
    const kind = kindRunning(
      (_spec, ctx) =>
        new Promise(() => {
          ctx.signal.addEventListener('abort', () => (sawAbort = true));
        }),
    );
    const r = await runProbe(kind, {}, { timeoutMs: 150, signal: noSignal() });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('timed out after 150 ms');
    expect(sawAbort).toBe(true);
  });

  it('returns when the caller aborts (shutdown), even if the kind hangs', async () => {
    const controller = new AbortController();
    const kind = kindRunning(() => new Promise(() => undefined));
    const pending = runProbe(kind, {}, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('daemon stopping'));
    const r = await pending;
    expect(r.status).toBe('fail');
    expect(r.message).toContain('daemon stopping');
  });

  it('runs a real kind from the registry', async () => {
    const port = await closedPort();
    const r = await runProbe(getProbeKind('tcp'), { host: '127.0.0.1', port }, { timeoutMs: 1000, signal: noSignal() }, {
      targetId: 'srv-1',
      checkName: 'ssh',
    });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('connection refused');
  });
});

describe('probe kind registry', () => {
  it('knows every kind by its type', () => {
    expect([...probeKinds.keys()]).toEqual(expect.arrayContaining(['http', 'icmp', 'tcp', 'smtp', 'imap', 'pop3']));
    for (const [type, kind] of probeKinds) expect(kind.type).toBe(type);
  });

  it('names the known types when asked for an unknown one', () => {
    expect(() => getProbeKind('snmpp')).toThrow(UnknownProbeKindError);
    expect(() => getProbeKind('snmpp')).toThrow(
      `unknown probe type "snmpp"; known types: ${[...probeKinds.keys()].join(', ')}`,
    );
  });

  it('describes every field so editors can show help', () => {
    for (const kind of probeKinds.values()) {
      const json = z.toJSONSchema(kind.schema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
      for (const [field, prop] of Object.entries(json.properties)) {
        expect(prop.description, `${kind.type}.${field}`).toBeTruthy();
      }
    }
  });
});
