// What the channels that speak HTTP share: Retry-After, sorting a failed request into retryable or
// permanent, which TLS certificates to trust (ca_file, tls_skip_verify), and a small JSON client for
// the helpdesk ticket APIs (ServiceNow, Zammad, Jira Service Management) that turns every answer a
// channel cannot use into a DeliveryResult.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { Method } from 'axios';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import { TLS_TRUST_CODES } from '../shared/tls.js';
import { isAxiosError, loadAxios } from '../shared/axios.js';
import { ChannelConfigError, permanent, retryable, type DeliveryResult } from './types.js';

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
 * Schema fields of a channel whose server may use a certificate from an internal CA (on-premises
 * helpdesks, or a proxy in front of one). ca_file is relative to the config file: see resolveCaFile.
 */
export const tlsFields = {
  ca_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      'PEM file of the CA (or the self-signed certificate) that signed the server\'s certificate; trusted instead of the public CAs. Relative to the config file.',
    ),
  tls_skip_verify: z
    .boolean()
    .default(false)
    .describe('Accept any TLS certificate from the server; anyone on the path can then read and change the traffic. Default false.'),
};

/** A channel kind's resolveFiles for configs made with tlsFields: ca_file made absolute. */
export function resolveCaFile<C extends { ca_file?: string | undefined }>(config: C, resolve: (file: string) => string): C {
  return config.ca_file === undefined ? config : { ...config, ca_file: resolve(config.ca_file) };
}

/** Which certificates a channel trusts; built once, when the channel is built. */
export interface ChannelTls {
  /** Undefined: Node's defaults (the public CAs, verification on). */
  agent: https.Agent | undefined;
  /** The ca_file in use, for messages. */
  caFile: string | undefined;
}

/**
 * Reads ca_file (once: a changed file takes a reload) and makes the agent that trusts it. A file
 * that cannot be read or holds no certificate is a ChannelConfigError naming it: Node would
 * otherwise ignore a file without certificates and refuse the server at every delivery.
 */
export function channelTls(channelId: string, tls: { ca_file?: string | undefined; tls_skip_verify: boolean }): ChannelTls {
  if (tls.ca_file === undefined && !tls.tls_skip_verify) return { agent: undefined, caFile: undefined };
  let ca: string | undefined;
  if (tls.ca_file !== undefined) {
    const file = tls.ca_file;
    try {
      ca = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
      throw new ChannelConfigError(channelId, `ca_file ${file} ${why}`, { cause: err });
    }
    const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new ChannelConfigError(channelId, `ca_file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    blocks.forEach((block, i) => {
      try {
        new X509Certificate(block);
      } catch (err) {
        throw new ChannelConfigError(channelId, `ca_file ${file}: certificate ${i + 1} of ${blocks.length} does not parse`, { cause: err });
      }
    });
  }
  // keepAlive like Node's global agent; the channel's close() destroys it.
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: !tls.tls_skip_verify, ...(ca !== undefined ? { ca } : {}) });
  return { agent, caFile: tls.ca_file };
}

/** What a person does about a certificate that was not accepted, for channels with tlsFields. */
function tlsAdvice(code: string, caFile: string | undefined): string {
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return "renew the server's certificate (or set the channel's tls_skip_verify: true)";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'put the host name the certificate was issued for in the url, or fix the certificate';
  if (caFile !== undefined) return `ca_file ${caFile} does not hold the CA that signed it; point ca_file at that CA's PEM file`;
  return "set the channel's ca_file to the PEM file of the CA that signed it (or tls_skip_verify: true)";
}

/**
 * Sorts a request that got no HTTP answer (axios threw) into retryable or permanent. `what` names
 * the request (`POST https://…`); `callerSignal` is the caller's own abort signal, told apart from
 * the attempt's timeout. `tls`: the channel has tlsFields, and an untrusted certificate's message
 * says which to set.
 */
export function classifyTransportError(
  err: unknown,
  callerSignal: AbortSignal,
  what: string,
  timeoutMs: number,
  tls?: { caFile: string | undefined },
): DeliveryResult {
  if (callerSignal.aborted) return retryable(`${what}: cancelled (shutting down); the receiver may or may not have it`);
  const code = isAxiosError(err) ? (err.code ?? '') : '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED')
    return retryable(`${what}: no answer within ${timeoutMs} ms (raise the channel's timeout if the receiver is only slow)`);
  if (code === 'ECONNREFUSED') return retryable(`${what}: connection refused (the receiver is down or nothing listens there)`);
  if (code === 'ECONNRESET') return retryable(`${what}: connection reset by the receiver`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return retryable(`${what}: cannot resolve the host name (${code}); check the url and DNS`);
  if (TLS_TRUST_CODES.has(code)) {
    const advice = tls === undefined ? "fix the receiver's certificate" : tlsAdvice(code, tls.caFile);
    return permanent(`${what}: TLS certificate not accepted (${code}: ${message}); ${advice}`);
  }
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
  /** From channelTls(). */
  tls: ChannelTls;
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

  /** Drops the kept-alive connections of a ca_file / tls_skip_verify agent. */
  close(): void {
    this.opts.tls.agent?.destroy();
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
      const axios = await loadAxios();
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
        httpsAgent: this.opts.tls.agent,
      });
      status = res.status;
      headers = res.headers;
      body = parseBody(res.data);
    } catch (err) {
      throw new DeliveryFailure(classifyTransportError(err, this.callerSignal, what, this.opts.timeoutMs, this.opts.tls));
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
