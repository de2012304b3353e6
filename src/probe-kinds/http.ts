// http: one request with axios; status, body substring/regex, TLS certificate lifetime.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import type { Value } from '../domain/signal.js';
import { SystemClock, type Clock } from '../shared/clock.js';
import { abortMessage, errorMessage, msSince, startDeadline } from './deadline.js';
import { quoteSnippet } from './tcp.js';
import type { ProbeContext, ProbeKind } from './types.js';
import { TLS_TRUST_CODES } from '../shared/tls.js';
import { isAxiosError, loadAxios } from '../shared/axios.js';

/** Bodies are read up to this size; matching sees only this much, bodyBytes stops here. */
export const MAX_BODY_BYTES = 1024 * 1024;
const DAY_MS = 86_400_000;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

const statusCode = z.number().int().min(100).max(599);

const schema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .describe('The URL to request, http:// or https://, e.g. `https://intranet.example.org/health`.'),
  method: z.enum(METHODS).default('GET').describe('HTTP method. Default GET.'),
  headers: z.record(z.string(), z.string()).optional().describe('Extra request headers, name: value.'),
  body: z.string().optional().describe('Request body sent as is (set a Content-Type header to match).'),
  expect: z
    .strictObject({
      status: z
        .union([statusCode, z.array(statusCode).min(1)])
        .optional()
        .describe('Accepted status code or list of codes. Without it, any 200-399 status is ok.'),
      body: z.string().min(1).optional().describe('Text that must appear in the response body (first 1 MiB).'),
      body_regex: z
        .string()
        .min(1)
        .refine(isValidRegex, { message: 'not a valid regular expression' })
        .optional()
        .describe('JavaScript regular expression the response body (first 1 MiB) must match.'),
    })
    .optional()
    .describe('What a healthy response looks like.'),
  tls_skip_verify: z
    .boolean()
    .default(false)
    .describe('Accept any TLS certificate (self-signed, wrong name, expired). certDaysLeft is still reported.'),
  follow_redirects: z.boolean().default(true).describe('Follow up to 10 redirects. Default true; when false a 3xx is the result.'),
});

export type HttpSpec = z.output<typeof schema>;

function statusOk(status: number, expected: HttpSpec['expect']): boolean {
  const want = expected?.status;
  if (want === undefined) return status >= 200 && status <= 399;
  return Array.isArray(want) ? want.includes(status) : status === want;
}

function describeExpectedStatus(expected: HttpSpec['expect']): string {
  const want = expected?.status;
  if (want === undefined) return '200-399';
  return Array.isArray(want) ? want.join(', ') : String(want);
}

function requestErrorMessage(err: unknown, what: string, timeoutMs: number): string {
  if (isAxiosError(err)) {
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED') return `${what}: connection refused (nothing listens on that port, or a firewall rejects it)`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${what}: cannot resolve host name (${code}); check the spelling and DNS`;
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return `${what}: timed out after ${timeoutMs} ms waiting for a response`;
    if (code === 'ECONNRESET') return `${what}: connection reset by the server`;
    if (code === 'ERR_FR_TOO_MANY_REDIRECTS') return `${what}: more than 10 redirects`;
    if (TLS_TRUST_CODES.has(code))
      return `${what}: TLS certificate not accepted (${code}: ${err.message}); fix the certificate or set tls_skip_verify: true`;
    return `${what}: ${code ? `${code}: ` : ''}${err.message}`;
  }
  return `${what}: ${errorMessage(err)}`;
}

interface BodyRead {
  text: string;
  bytes: number;
  truncated: boolean;
}

/**
 * Reads at most `max` bytes, then drops the connection; aborts with the signal. Without `keep` the
 * bytes are only counted (no body expectation reads them): nothing per run is held or decoded.
 */
function readCapped(stream: Readable, max: number, signal: AbortSignal, keep: boolean): Promise<BodyRead> {
  return new Promise<BodyRead>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const done = (truncated: boolean) =>
      settle(() => resolve({ text: keep ? Buffer.concat(chunks).toString('utf8') : '', bytes, truncated }));
    const onAbort = () => {
      settle(() => reject(signal.reason));
      stream.destroy();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      const part = chunk.subarray(0, max - bytes);
      if (keep) chunks.push(part);
      bytes += part.length;
      if (bytes >= max) {
        done(true);
        stream.destroy();
      }
    });
    stream.once('end', () => done(false));
    stream.once('error', (err) => settle(() => reject(err)));
    stream.once('close', () => done(false));
  });
}

/** Whole days until the peer certificate expires (negative once expired); undefined for plain http. */
function certDaysLeft(res: AxiosResponse, now: number): number | undefined {
  const socket = (res.request as http.ClientRequest | undefined)?.socket as TLSSocket | undefined;
  if (!socket || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.valid_to) return undefined;
  const validTo = Date.parse(cert.valid_to);
  if (Number.isNaN(validTo)) return undefined;
  return Math.floor((validTo - now) / DAY_MS);
}

/** The request headers of a check that sets none of its own: one object for all of them. */
const PROBE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'User-Agent': 'incidentd-probe' });

/** Methods that a run may ask twice (see `redirecting` below). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A response follow-redirects would not hand back but follow: a 3xx with a Location. */
function isRedirect(res: AxiosResponse): boolean {
  return res.status >= 300 && res.status < 400 && Boolean(res.headers['location']);
}

/** `clock` dates certificate lifetimes; tests pass a FakeClock. */
export function createHttpKind(clock: Clock = new SystemClock()): ProbeKind<HttpSpec> {
  // Fresh connections on every run: a probe measures connect + TLS as a user would see them,
  // and thousands of targets do not leave thousands of idle sockets behind.
  const httpAgent = new http.Agent({ keepAlive: false });
  const httpsAgent = new https.Agent({ keepAlive: false });
  const insecureAgent = new https.Agent({ keepAlive: false, rejectUnauthorized: false });
  // Per spec, so per check, and only for the few that need it: a check's own headers merged
  // with ours (built on its first run, not on every run), and the checks whose target redirects.
  const headersOf = new WeakMap<HttpSpec, Record<string, string>>();
  /**
   * A check that follows redirects with a safe method asks with maxRedirects 0 until its target
   * answers with a redirect: axios then uses node's http/https directly instead of
   * follow-redirects (a request wrapper, a timer and buffers per run). Such a run asks again,
   * following, and the check is listed here: its later runs follow from the start.
   */
  const redirecting = new WeakSet<HttpSpec>();
  let client: AxiosInstance | undefined;

  function requestHeaders(spec: HttpSpec): Record<string, string> {
    if (spec.headers === undefined) return PROBE_HEADERS;
    let headers = headersOf.get(spec);
    if (!headers) headersOf.set(spec, (headers = { ...PROBE_HEADERS, ...spec.headers }));
    return headers;
  }

  /**
   * An axios instance holding what no run changes, so each request merges less. axios's default
   * headers come in buckets (common, get, post, …) that every request deep-copies and then
   * flattens; only `common` holds anything (Accept), so the instance has that bucket flat.
   */
  async function probeClient(): Promise<AxiosInstance> {
    if (client) return client;
    const axios = await loadAxios();
    const created = axios.create({
      responseType: 'stream',
      validateStatus: () => true,
      // Probes go straight to the target: a proxy from the environment would test the proxy.
      proxy: false,
      httpAgent,
      // The one adapter axios picks in node anyway, without trying xhr first.
      adapter: 'http',
    });
    created.defaults.headers = { ...axios.defaults.headers.common } as unknown as typeof created.defaults.headers;
    return (client ??= created);
  }

  async function run(spec: HttpSpec, ctx: ProbeContext): Promise<CheckResult> {
    const method = spec.method ?? 'GET';
    const what = `${method} ${spec.url}`;
    const headers = requestHeaders(spec);
    const tlsAgent = spec.tls_skip_verify ? insecureAgent : httpsAgent;
    const maxRedirects = spec.follow_redirects === false ? 0 : 10;
    const deadline = startDeadline(ctx);
    const started = performance.now();
    try {
      let res: AxiosResponse<Readable>;
      try {
        const axios = client ?? (await probeClient());
        const plain = maxRedirects > 0 && SAFE_METHODS.has(method) && !redirecting.has(spec);
        const request: AxiosRequestConfig = {
          url: spec.url,
          method,
          headers,
          data: spec.body,
          timeout: ctx.timeoutMs,
          signal: deadline.signal,
          maxRedirects: plain ? 0 : maxRedirects,
          httpsAgent: tlsAgent,
        };
        res = await axios.request<Readable>(request);
        if (plain && isRedirect(res)) {
          // Asking twice changes nothing with a safe method; this run's latency includes the
          // first answer, once per check.
          redirecting.add(spec);
          res.data.destroy();
          // Following now, within what is left of the run's timeout, as one request would have had.
          request.timeout = Math.max(1, ctx.timeoutMs - msSince(started));
          request.maxRedirects = maxRedirects;
          res = await axios.request<Readable>(request);
        }
      } catch (err) {
        // No response: nothing was read, so conditions on the response (a certificate about to
        // expire, a status) are unknown rather than cleared.
        const message = deadline.signal.aborted ? `${what}: ${abortMessage(deadline.signal, ctx.timeoutMs)}` : requestErrorMessage(err, what, ctx.timeoutMs);
        return { status: 'fail', message, latencyMs: msSince(started), values: { answered: false }, partial: true };
      }

      const values: Record<string, Value> = { answered: true, status: res.status };
      const days = certDaysLeft(res, clock.now());
      if (days !== undefined) values.certDaysLeft = days;

      let body: BodyRead;
      try {
        const matched = spec.expect?.body !== undefined || spec.expect?.body_regex !== undefined;
        body = await readCapped(res.data, MAX_BODY_BYTES, deadline.signal, matched);
      } catch (err) {
        const why = deadline.signal.aborted ? abortMessage(deadline.signal, ctx.timeoutMs) : errorMessage(err);
        return { status: 'fail', message: `${what}: status ${res.status}, but reading the body failed: ${why}`, latencyMs: msSince(started), values, partial: true };
      }
      values.bodyBytes = body.bytes;
      const latencyMs = msSince(started);
      values.latencyMs = latencyMs;

      const seen = body.truncated ? `the first ${MAX_BODY_BYTES} bytes of the body` : 'the body';
      if (!statusOk(res.status, spec.expect))
        return { status: 'fail', message: `${what}: status ${res.status}, expected ${describeExpectedStatus(spec.expect)}`, latencyMs, values };
      if (spec.expect?.body !== undefined && !body.text.includes(spec.expect.body))
        return {
          status: 'fail',
          message: `${what}: status ${res.status}, but ${seen} does not contain ${quoteSnippet(spec.expect.body)} (starts with ${quoteSnippet(body.text)})`,
          latencyMs,
          values,
        };
      if (spec.expect?.body_regex !== undefined && !new RegExp(spec.expect.body_regex).test(body.text))
        return {
          status: 'fail',
          message: `${what}: status ${res.status}, but ${seen} does not match /${spec.expect.body_regex}/ (starts with ${quoteSnippet(body.text)})`,
          latencyMs,
          values,
        };
      return { status: 'ok', message: `${what}: status ${res.status} in ${latencyMs} ms`, latencyMs, values };
    } finally {
      deadline.dispose();
    }
  }

  return {
    type: 'http',
    schema,
    defaultName: (spec) => {
      try {
        return `http:${new URL(spec.url).host}`;
      } catch {
        return 'http';
      }
    },
    run,
    // axios is loaded when http checks are scheduled, not in their first runs: its loading (a
    // second on a busy machine) would count against their timeouts.
    prerequisites: async () => {
      await probeClient();
      return null;
    },
  };
}

export const httpKind = createHttpKind();
