// The one way to run a probe kind: timeout enforced, exceptions turned into fail results,
// latency measured, one OpenTelemetry span per run when a tracer provider is registered.
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../domain/check.js';
import { ProxyTracerProvider, SpanStatusCode, trace, type Span } from '../shared/otel.js';
import { abortMessage, errorMessage, msSince, ONCE, startDeadline } from './deadline.js';
import type { ProbeContext, ProbeKind } from './types.js';

export interface ProbeRunLabels {
  targetId?: string;
  checkName?: string;
}

const NO_LABELS: ProbeRunLabels = {};

// Once per process: a proxy that turns into the registered provider's tracer once there is one.
const tracer = trace.getTracer('incidentd');

/**
 * Whether a tracer provider is registered. Without one every span is a no-op, yet starting one
 * still builds its attributes, a span object and a context per run (about 500 runs/s at 15,000
 * checks), so runs then go without. The API's global provider is a ProxyTracerProvider that has a
 * delegate once an SDK registers; another copy of the API (not an instance of this class) counts
 * as registered.
 */
function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('incidentd') !== undefined;
}

/**
 * Runs `kind` once. Never throws and never takes longer than ctx.timeoutMs (or until ctx.signal
 * aborts): a kind that ignores its signal is abandoned and the run reported as a timeout.
 */
export function runProbe<S>(kind: ProbeKind<S>, spec: S, ctx: ProbeContext, labels: ProbeRunLabels = NO_LABELS): Promise<CheckResult> {
  if (!tracing()) return runTimed(kind, spec, ctx, undefined);
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
      const result = await runTimed(kind, spec, ctx, span);
      span.setAttribute('incidentd.check.status', result.status);
      span.setAttribute('incidentd.check.latency_ms', result.latencyMs);
      if (result.status === 'fail') span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
      span.end();
      return result;
    },
  );
}

async function runTimed<S>(kind: ProbeKind<S>, spec: S, ctx: ProbeContext, span: Span | undefined): Promise<CheckResult> {
  const deadline = startDeadline(ctx);
  const race = new RunRace(kind.type, ctx.timeoutMs, deadline.signal, span);
  try {
    return await race.run(kind, spec);
  } finally {
    deadline.dispose();
  }
}

/**
 * One run: the kind's result, or a timeout result once the deadline's signal aborts, whichever
 * comes first. A class rather than closures: its methods serve as the abort listener
 * (handleEvent) and the setImmediate callback, so a run allocates one object for them.
 */
class RunRace {
  private readonly started = performance.now();
  private resolve!: (r: CheckResult) => void;
  private readonly settled: Promise<CheckResult>;

  constructor(
    private readonly type: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
    private readonly span: Span | undefined,
  ) {
    this.settled = new Promise<CheckResult>((resolve) => (this.resolve = resolve));
  }

  run<S>(kind: ProbeKind<S>, spec: S): Promise<CheckResult> {
    // Listening before the kind starts, so this listener runs before the kind's own.
    if (this.signal.aborted) this.handleEvent();
    else this.signal.addEventListener('abort', this, ONCE);
    let ran: Promise<CheckResult>;
    try {
      // The kind's context carries the deadline: it uses this signal rather than starting another.
      ran = kind.run(spec, { timeoutMs: this.timeoutMs, signal: this.signal, hasDeadline: true });
    } catch (err) {
      this.failed(err);
      return this.settled;
    }
    void Promise.resolve(ran).then(
      (r) => this.resolve(normalise(r, this.elapsed())),
      (err: unknown) => this.failed(err),
    );
    return this.settled;
  }

  /**
   * The deadline's signal aborted: nothing (complete) came back in time, what the run would have
   * read is unknown. One turn of the event loop first: a kind that honours its signal settles
   * within it (its abort handling runs in microtasks) with a result that knows more, e.g. that
   * the server answered before it hung. A kind that ignores the signal is abandoned.
   */
  handleEvent(): void {
    setImmediate(timedOut, this);
  }

  timedOut(): void {
    this.resolve({ status: 'fail', message: abortMessage(this.signal, this.timeoutMs), latencyMs: this.elapsed(), values: { answered: false }, partial: true });
  }

  private failed(err: unknown): void {
    this.span?.recordException(err instanceof Error ? err : String(err));
    this.resolve({
      status: 'fail',
      message: `${this.type} probe failed unexpectedly: ${errorMessage(err)}`,
      latencyMs: this.elapsed(),
      values: {},
      partial: true,
    });
  }

  private elapsed(): number {
    return msSince(this.started);
  }
}

function timedOut(race: RunRace): void {
  race.timedOut();
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
