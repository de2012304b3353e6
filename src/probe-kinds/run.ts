// The one way to run a probe kind: timeout enforced, exceptions turned into fail results,
// latency measured, one OpenTelemetry span per run.
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../domain/check.js';
import { SpanStatusCode, trace } from '../shared/otel.js';
import { abortMessage, errorMessage, startDeadline } from './deadline.js';
import type { ProbeContext, ProbeKind } from './types.js';

export interface ProbeRunLabels {
  targetId?: string;
  checkName?: string;
}

/**
 * Runs `kind` once. Never throws and never takes longer than ctx.timeoutMs (or until ctx.signal
 * aborts): a kind that ignores its signal is abandoned and the run reported as a timeout.
 */
export async function runProbe<S>(
  kind: ProbeKind<S>,
  spec: S,
  ctx: ProbeContext,
  labels: ProbeRunLabels = {},
): Promise<CheckResult> {
  const tracer = trace.getTracer('incidentd');
  return tracer.startActiveSpan(
    'probe.run',
    {
      attributes: {
        'incidentd.target.id': labels.targetId ?? '',
        'incidentd.check.name': labels.checkName ?? '',
        'incidentd.check.type': kind.type,
      },
    },
    async (span) => {
      const started = performance.now();
      const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
      const deadline = startDeadline(ctx);
      let result: CheckResult;
      try {
        const timedOut = new Promise<CheckResult>((resolve) => {
          // Nothing (complete) came back in time: what the run would have read is unknown. One
          // turn of the event loop first: a kind that honours its signal settles within it (its
          // abort handling runs in microtasks) with a result that knows more, e.g. that the
          // server answered before it hung. A kind that ignores the signal is abandoned.
          const onAbort = () =>
            setImmediate(() =>
              resolve({ status: 'fail', message: abortMessage(deadline.signal, ctx.timeoutMs), latencyMs: elapsed(), values: { answered: false }, partial: true }),
            );
          if (deadline.signal.aborted) onAbort();
          else deadline.signal.addEventListener('abort', onAbort, { once: true });
        });
        const ran = Promise.resolve()
          .then(() => kind.run(spec, { timeoutMs: ctx.timeoutMs, signal: deadline.signal }))
          .then(
            (r) => normalise(r, elapsed()),
            (err: unknown) => {
              span.recordException(err instanceof Error ? err : String(err));
              return {
                status: 'fail' as const,
                message: `${kind.type} probe failed unexpectedly: ${errorMessage(err)}`,
                latencyMs: elapsed(),
                values: {},
                partial: true,
              };
            },
          );
        result = await Promise.race([ran, timedOut]);
      } finally {
        deadline.dispose();
      }
      span.setAttribute('incidentd.check.status', result.status);
      span.setAttribute('incidentd.check.latency_ms', result.latencyMs);
      if (result.status === 'fail') span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
      span.end();
      return result;
    },
  );
}

/** Guards against a kind returning something that is not a CheckResult. */
function normalise(r: CheckResult | undefined, latencyMs: number): CheckResult {
  if (!r || (r.status !== 'ok' && r.status !== 'fail')) {
    return { status: 'fail', message: `probe returned no valid result (${JSON.stringify(r)})`, latencyMs, values: {} };
  }
  const out: CheckResult = {
    status: r.status,
    message: typeof r.message === 'string' ? r.message : String(r.message),
    latencyMs: Number.isFinite(r.latencyMs) ? r.latencyMs : latencyMs,
    values: r.values ?? {},
  };
  if (r.partial === true) out.partial = true;
  if (typeof r.cannotRun === 'string') out.cannotRun = r.cannotRun;
  return out;
}
