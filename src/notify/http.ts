// What the channels that speak HTTP share: Retry-After, sorting a failed request into retryable or
// permanent, and a small JSON client for the helpdesk ticket APIs (ServiceNow, Zammad, Jira
// Service Management) that turns every answer a channel cannot use into a DeliveryResult.
import axios, { AxiosError, type Method } from 'axios';
import type { Clock } from '../shared/clock.js';
import { TLS_TRUST_CODES } from '../shared/tls.js';
import { permanent, retryable, type DeliveryResult } from './types.js';

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** `: <the body on one line, at most 200 characters>`, or nothing for an empty body. */
export function snippet(body: unknown): string {
  const s = typeof body === 'string' ? body : body === undefined || body === null ? '' : JSON.stringify(body);
  const one = s.replace(/\s+/g, ' ').trim();
  if (one === '') return '';
  return `: ${one.length > 200 ? `${one.slice(0, 197)}...` : one}`;
}

/**
 * Sorts a request that got no HTTP answer (axios threw) into retryable or permanent. `what` names
 * the request (`POST https://…`); `callerSignal` is the caller's own abort signal, told apart from
 * the attempt's timeout.
 */
export function classifyTransportError(err: unknown, callerSignal: AbortSignal, what: string, timeoutMs: number): DeliveryResult {
  if (callerSignal.aborted) return retryable(`${what}: cancelled (shutting down); the receiver may or may not have it`);
  const code = err instanceof AxiosError ? (err.code ?? '') : '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED')
    return retryable(`${what}: no answer within ${timeoutMs} ms (raise the channel's timeout if the receiver is only slow)`);
  if (code === 'ECONNREFUSED') return retryable(`${what}: connection refused (the receiver is down or nothing listens there)`);
  if (code === 'ECONNRESET') return retryable(`${what}: connection reset by the receiver`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return retryable(`${what}: cannot resolve the host name (${code}); check the url and DNS`);
  if (TLS_TRUST_CODES.has(code)) return permanent(`${what}: TLS certificate not accepted (${code}: ${message}); fix the receiver's certificate`);
  if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(message))
    return retryable(`${what}: answer larger than the limit; the receiver should answer briefly`);
  return retryable(`${what}: ${code ? `${code}: ` : ''}${message}`);
}

/** Thrown inside a channel's delivery to stop it with this result; deliver() returns it. */
export class DeliveryFailure extends Error {
  constructor(readonly result: DeliveryResult) {
    super(result.outcome === 'ok' ? 'ok' : result.error);
    this.name = 'DeliveryFailure';
  }
}

export interface JsonApiOptions {
  /** Vendor name for messages, e.g. `ServiceNow`. */
  vendor: string;
  /** Scheme, host and any base path; no trailing slash. */
  baseUrl: string;
  /** Sent with every request (authorization). */
  headers: Record<string, string>;
  /** Bounds one whole delivery, however many requests it takes. */
  timeoutMs: number;
  clock: Clock;
  /** The vendor's own error text from an error answer's parsed body, if it has one. */
  errorText: (body: unknown) => string | undefined;
  /** What to check when the vendor answers 401, e.g. `user and password, or token`. */
  credentials: string;
}

export interface ApiRequest {
  method: Method;
  /** Path below baseUrl, starting with `/`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Statuses besides 2xx handed back to the caller instead of failing the delivery. */
  accept?: readonly number[];
  /** For a 404: the sentence that says which ticket is gone. */
  gone?: string;
}

export interface ApiAnswer {
  status: number;
  /** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

/** Biggest answer read; search answers with assets (Zammad) are the largest. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

function parseBody(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  const t = text.trim();
  if (t === '') return undefined;
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * A JSON client for one vendor. `session(callerSignal)` starts one delivery: every request in it
 * shares one deadline of `timeoutMs`, and any answer the channel cannot use throws DeliveryFailure
 * with the classified result.
 */
export class JsonApi {
  constructor(private readonly opts: JsonApiOptions) {}

  session(callerSignal: AbortSignal): ApiSession {
    // A real timer on purpose: it bounds socket I/O with the vendor, not scheduling logic.
    const attempt = AbortSignal.any([callerSignal, AbortSignal.timeout(this.opts.timeoutMs)]);
    return new ApiSession(this.opts, callerSignal, attempt);
  }
}

export class ApiSession {
  constructor(
    private readonly opts: JsonApiOptions,
    private readonly callerSignal: AbortSignal,
    private readonly attempt: AbortSignal,
  ) {}

  async call(req: ApiRequest): Promise<ApiAnswer> {
    const what = `${this.opts.vendor} ${req.method.toUpperCase()} ${this.opts.baseUrl}${req.path}`;
    let status: number;
    let headers: Record<string, unknown>;
    let body: unknown;
    try {
      const res = await axios.request<string>({
        method: req.method,
        url: `${this.opts.baseUrl}${req.path}`,
        params: req.query,
        data: req.body === undefined ? undefined : JSON.stringify(req.body),
        headers: {
          'User-Agent': 'incidentd',
          Accept: 'application/json',
          ...(req.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...this.opts.headers,
        },
        timeout: this.opts.timeoutMs,
        signal: this.attempt,
        transformRequest: [(d: unknown) => d],
        responseType: 'text',
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
        // A redirected POST turns into a GET on most servers; the url should be the final one.
        maxRedirects: 0,
        maxContentLength: MAX_ANSWER_BYTES,
      });
      status = res.status;
      headers = res.headers as Record<string, unknown>;
      body = parseBody(res.data);
    } catch (err) {
      throw new DeliveryFailure(classifyTransportError(err, this.callerSignal, what, this.opts.timeoutMs));
    }
    if ((status >= 200 && status <= 299) || req.accept?.includes(status)) return { status, body };
    throw new DeliveryFailure(this.classifyStatus(what, status, headers, body, req));
  }

  private classifyStatus(what: string, status: number, headers: Record<string, unknown>, body: unknown, req: ApiRequest): DeliveryResult {
    // Trailing full stops go: the message continues with what to check.
    const vendorText = this.opts.errorText(body)?.replace(/[.\s]+$/, '');
    const answer = `${what} answered ${status}${vendorText ? `: ${vendorText}` : snippet(body)}`;
    if (status === 408 || status === 429 || status >= 500) {
      return retryable(answer, parseRetryAfter(headers['retry-after'], this.opts.clock.now()));
    }
    if (status >= 300 && status <= 399) {
      const location = typeof headers.location === 'string' ? ` to ${headers.location}` : '';
      return permanent(`${what} redirected${location} (status ${status}); set the url to the final address`);
    }
    if (status === 401) return permanent(`${answer}; check the channel's credentials (${this.opts.credentials})`);
    if (status === 403) return permanent(`${answer}; the account lacks a permission this needs`);
    if (status === 404 && req.gone !== undefined) return permanent(`${answer}; ${req.gone}`);
    return permanent(`${answer}; ${this.opts.vendor} refuses this request, check the channel's settings`);
  }

  /** A 2xx answer that is not what the vendor documents: wrong url, or a proxy's login page. */
  unexpected(req: Pick<ApiRequest, 'method' | 'path'>, answer: ApiAnswer, expected: string): DeliveryFailure {
    const what = `${this.opts.vendor} ${req.method.toUpperCase()} ${this.opts.baseUrl}${req.path}`;
    return new DeliveryFailure(
      permanent(`${what} answered ${answer.status} without ${expected}${snippet(answer.body)}; check that the url points at ${this.opts.vendor}`),
    );
  }
}

/** `Basic <base64(user:secret)>`. */
export function basicAuth(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}
