// One mail probe run as a sequence of named, timed steps. A step that throws ends the run with a
// fail result naming the step and the reason; nothing escapes as an exception.
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../../domain/check.js';
import type { Value } from '../../domain/signal.js';
import type { Clock } from '../../shared/clock.js';
import { abortMessage, errorMessage, msSince, startDeadline, type Deadline } from '../deadline.js';
import { hostPort } from '../tcp.js';
import type { ProbeContext } from '../types.js';
import { MailCertificateError, MailStepError } from './errors.js';
import { LineClient } from './line-client.js';

const DAY_MS = 86_400_000;

/** What every mail kind needs from its spec to connect and handle TLS. */
export interface MailConnectSpec {
  host: string;
  tls_skip_verify?: boolean;
}

function socketErrorReason(err: NodeJS.ErrnoException): string | undefined {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port, or a firewall rejects it)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot resolve host name (${err.code}); check the spelling and DNS`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable (${err.code})`;
    case 'ECONNRESET':
      return 'connection reset by the server';
    default:
      return undefined;
  }
}

/** Whole days until `validTo` (a certificate's `valid_to`); negative once expired. */
export function daysLeft(validTo: string, now: number): number | undefined {
  const at = Date.parse(validTo);
  if (Number.isNaN(at)) return undefined;
  return Math.floor((at - now) / DAY_MS);
}

export class MailSession {
  readonly values: Record<string, Value> = { tls: false };
  private readonly passed: string[] = [];
  private readonly started = performance.now();
  private client: LineClient | undefined;
  /** Whether certDaysLeft has had its chance: a handshake ran, or the server offers no TLS. */
  private tlsSettled: boolean;

  constructor(
    readonly where: string,
    private readonly deadline: Deadline,
    private readonly ctx: ProbeContext,
    private readonly clock: Clock,
    tlsExpected: boolean,
  ) {
    this.tlsSettled = !tlsExpected;
  }

  /** The server offers no STARTTLS: there is no certificate to measure, which is a measurement. */
  noTlsOffered(): void {
    this.tlsSettled = true;
  }

  /**
   * Runs `fn` as the step `name`; on success records its duration under `valueKey` (when given).
   * Any error becomes a MailStepError whose message says what went wrong in words.
   */
  async step<T>(name: string, valueKey: string | undefined, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    let out: T;
    try {
      out = await fn();
    } catch (err) {
      if (err instanceof MailStepError) throw err;
      throw new MailStepError(name, this.reason(err), { cause: err });
    }
    if (valueKey !== undefined) this.values[valueKey] = msSince(t0);
    this.passed.push(name);
    return out;
  }

  /** The TCP connect step; the session closes the client when the run ends. */
  async connect(host: string, port: number): Promise<LineClient> {
    this.client = await this.step('connect', 'connectMs', () => LineClient.connect(host, port, this.deadline.signal));
    return this.client;
  }

  /**
   * A TLS handshake on `client`: records `tls` and `certDaysLeft` (even for a certificate that is
   * then refused), and throws MailCertificateError for an untrusted one unless tls_skip_verify.
   */
  async handshake(client: LineClient, spec: MailConnectSpec): Promise<void> {
    const result = await client.startTls(spec.host);
    this.tlsSettled = true;
    if (result.certificate?.valid_to) {
      const days = daysLeft(result.certificate.valid_to, this.clock.now());
      if (days !== undefined) this.values.certDaysLeft = days;
    }
    if (!result.authorized && !spec.tls_skip_verify) throw new MailCertificateError(result.authorizationError ?? 'unknown reason');
    this.values.tls = true;
  }

  /**
   * Runs `body` (which returns the ok message's detail) and turns the outcome into a CheckResult.
   * `values.answered` says whether the server sent anything. A failed run is partial when the
   * server did not answer, or when it failed before the certificate could be read: rules on
   * certDaysLeft learn nothing from it, so their incidents stay as they are.
   */
  async run(body: () => Promise<string>): Promise<CheckResult> {
    try {
      const detail = await body();
      this.values.answered = true;
      const latencyMs = msSince(this.started);
      const cert = this.values.certDaysLeft;
      const tlsNote = this.values.tls ? `, TLS${cert === undefined ? '' : ` (certificate expires in ${cert} days)`}` : ', no TLS';
      return {
        status: 'ok',
        message: `${this.where}: ${this.passed.join(', ')} ok in ${latencyMs} ms${tlsNote}${detail ? `; ${detail}` : ''}`,
        latencyMs,
        values: this.values,
      };
    } catch (err) {
      const why = err instanceof MailStepError ? err.message : this.reason(err);
      const answered = this.client?.heard === true;
      this.values.answered = answered;
      const result: CheckResult = { status: 'fail', message: `${this.where}: ${why}`, latencyMs: msSince(this.started), values: this.values };
      if (!answered || !this.tlsSettled) result.partial = true;
      return result;
    } finally {
      this.client?.close();
      this.deadline.dispose();
    }
  }

  private reason(err: unknown): string {
    if (this.deadline.signal.aborted) return abortMessage(this.deadline.signal, this.ctx.timeoutMs);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string') {
      const known = socketErrorReason(err as NodeJS.ErrnoException);
      if (known) return known;
    }
    return errorMessage(err);
  }
}

/**
 * Starts a session for one run against host:port, with the run's deadline. `tlsExpected`: the
 * run would read a certificate (implicit TLS, or STARTTLS unless `never`).
 */
export function startMailSession(host: string, port: number, ctx: ProbeContext, clock: Clock, tlsExpected: boolean): MailSession {
  return new MailSession(hostPort(host, port), startDeadline(ctx), ctx, clock, tlsExpected);
}
