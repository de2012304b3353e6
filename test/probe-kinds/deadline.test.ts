import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProbeAbortedError, ProbeTimeoutError, startDeadline } from '../../src/probe-kinds/deadline.js';
import { runProbe } from '../../src/probe-kinds/run.js';
import type { ProbeContext, ProbeKind } from '../../src/probe-kinds/types.js';

const aborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

describe('startDeadline', () => {
  it('without hasDeadline aborts its own signal at the timeout with a ProbeTimeoutError', async () => {
    const outer = new AbortController();
    const deadline = startDeadline({ timeoutMs: 30, signal: outer.signal });
    expect(deadline.signal).not.toBe(outer.signal);
    await aborted(deadline.signal);
    expect(deadline.signal.reason).toBeInstanceOf(ProbeTimeoutError);
    expect(outer.signal.aborted).toBe(false);
    deadline.dispose();
  });

  it('without hasDeadline follows the caller aborting, with the caller’s reason', () => {
    const outer = new AbortController();
    const deadline = startDeadline({ timeoutMs: 60_000, signal: outer.signal });
    const why = new ProbeAbortedError('daemon stopping');
    outer.abort(why);
    expect(deadline.signal.reason).toBe(why);
    deadline.dispose();
  });

  it('with hasDeadline uses the caller’s signal as is', () => {
    const outer = new AbortController();
    const deadline = startDeadline({ timeoutMs: 30, signal: outer.signal, hasDeadline: true });
    expect(deadline.signal).toBe(outer.signal);
    deadline.dispose();
  });
});

describe('runProbe and the kind’s deadline', () => {
  it('hands the kind a context that carries runProbe’s deadline, which still times out', async () => {
    let seen: ProbeContext | undefined;
    const kind: ProbeKind = {
      type: 'test',
      schema: z.strictObject({}),
      defaultName: () => 'test',
      run: async (_spec, ctx) => {
        seen = ctx;
        const deadline = startDeadline(ctx);
        await aborted(deadline.signal);
        deadline.dispose();
        return { status: 'fail', message: 'gave up', latencyMs: 1, values: {} };
      },
    };
    const r = await runProbe(kind, {}, { timeoutMs: 50, signal: new AbortController().signal });
    expect(seen?.hasDeadline).toBe(true);
    expect(seen?.signal.reason).toBeInstanceOf(ProbeTimeoutError);
    expect(r).toMatchObject({ status: 'fail', message: 'gave up' });
  });
});
