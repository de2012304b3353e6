// webhook: POSTs each event as JSON (axios), signed so the receiver can trust and date it.
//
// Body: { id, type, at (ISO 8601), incident (the API's single-incident shape, with timeline), tier,
// actor, message } — absent tier/actor/message are null.
// Headers:
//   Content-Type: application/json
//   X-Incidentd-Event: <event type>              e.g. incident.opened
//   Idempotency-Key: <event id>                   the same on every retry; drop repeats by it
//   X-Incidentd-Timestamp: <unix seconds>         when this attempt was signed
//   X-Incidentd-Signature: sha256=<hex>           HMAC-SHA256 with the channel secret over
//                                                 "<X-Incidentd-Timestamp>.<raw body bytes>"
// To verify: recompute the HMAC over the timestamp header, a ".", and the body exactly as
// received; compare in constant time; refuse a timestamp more than a few minutes from your clock
// (a replayed request keeps its old timestamp, and changing it breaks the signature).
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { toApi } from '../domain/serialize.js';
import { parseDuration } from '../shared/duration.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { loadAxios } from '../shared/axios.js';
import { channelId, channelTimeout } from './email.js';
import { channelTls, classifyTransportError, parseRetryAfter, snippet, tlsFields, type ChannelTls, resolveCaFile } from './http.js';
import {
  delivered,
  permanent,
  retryable,
  type Channel,
  type ChannelDeps,
  type ChannelKind,
  type DeliveryResult,
  type IncidentEvent,
} from './types.js';

/** Headers the channel sets itself; `headers` in the config may not replace them. */
const RESERVED_HEADERS = ['content-type', 'content-length', 'idempotency-key', 'x-incidentd-event', 'x-incidentd-timestamp', 'x-incidentd-signature'];

export const webhookChannelSchema = z
  .strictObject({
    id: channelId,
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('Where events are POSTed.'),
    secret: z
      .string()
      .min(16, { error: 'secret must have at least 16 characters (an unset ${ENV} gives an empty one)' })
      .describe('HMAC-SHA256 key for X-Incidentd-Signature; use ${ENV} to keep it out of the file.'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'not a valid header name' }), z.string())
      .default({})
      .refine((h) => !Object.keys(h).some((k) => RESERVED_HEADERS.includes(k.toLowerCase())), {
        error: `these headers are set by incidentd and cannot be configured: ${RESERVED_HEADERS.join(', ')}`,
      })
      .describe('Extra request headers, e.g. Authorization for the receiver.'),
    timeout: channelTimeout('10s'),
    ...tlsFields,
  })
  .describe('Signed JSON events over HTTP POST.');

export type WebhookChannelConfig = z.output<typeof webhookChannelSchema>;

/** The hex HMAC-SHA256 a receiver recomputes: key `secret`, message `<timestamp>.<body>`. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export function webhookBody(event: IncidentEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    at: new Date(event.at).toISOString(),
    incident: toApi(event.incident, { withTimeline: true }),
    tier: event.tier ?? null,
    actor: event.actor ?? null,
    message: event.message ?? null,
  });
}

export class WebhookChannel implements Channel {
  readonly type = 'webhook';
  readonly id: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly tls: ChannelTls;

  constructor(
    private readonly config: WebhookChannelConfig,
    deps: ChannelDeps,
  ) {
    this.id = config.id;
    this.tls = channelTls(config.id, config);
    this.clock = deps.clock;
    this.log = deps.logger.child({ channel: config.id, channelType: 'webhook' });
    this.timeoutMs = parseDuration(config.timeout) ?? 10_000;
  }

  async deliver(event: IncidentEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const body = webhookBody(event);
    const timestamp = Math.floor(this.clock.now() / 1000);
    const what = `POST ${this.config.url}`;
    // A real timer on purpose: it bounds socket I/O with the receiver, not scheduling logic.
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
    let status: number;
    let headers: Record<string, unknown>;
    let data: unknown;
    try {
      const axios = await loadAxios();
      const res = await axios.post<string>(this.config.url, body, {
        headers: {
          'User-Agent': 'incidentd',
          ...this.config.headers,
          'Content-Type': 'application/json',
          'X-Incidentd-Event': event.type,
          'Idempotency-Key': event.id,
          'X-Incidentd-Timestamp': String(timestamp),
          'X-Incidentd-Signature': `sha256=${webhookSignature(this.config.secret, timestamp, body)}`,
        },
        timeout: this.timeoutMs,
        signal: attempt,
        httpsAgent: this.tls.agent,
        // The body is sent exactly as signed; the answer is kept as text for error messages.
        transformRequest: [(d: unknown) => d],
        responseType: 'text',
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
        // A redirected POST turns into a GET on most servers; the URL should be the final one.
        maxRedirects: 0,
        maxContentLength: 64 * 1024,
      });
      status = res.status;
      headers = res.headers;
      data = res.data;
    } catch (err) {
      const result = classifyTransportError(err, signal, what, this.timeoutMs, { caFile: this.tls.caFile });
      this.log.debug({ incident: event.incident.number, event: event.id, err }, 'webhook delivery failed');
      return result;
    }
    if (status >= 200 && status <= 299) return delivered();
    const answer = `${what} answered ${status}${snippet(data)}`;
    if (status === 408 || status === 429 || status >= 500) {
      return retryable(answer, parseRetryAfter(headers['retry-after'], this.clock.now()));
    }
    if (status >= 300 && status <= 399) {
      const location = typeof headers.location === 'string' ? ` to ${headers.location}` : '';
      return permanent(`${what} redirected${location} (status ${status}); set url to the final address`);
    }
    return permanent(`${answer}; the receiver refuses this request, check url, headers and secret`);
  }

  async close(): Promise<void> {
    this.tls.agent?.destroy();
  }
}

export const webhookChannel: ChannelKind<typeof webhookChannelSchema> = {
  type: 'webhook',
  schema: webhookChannelSchema,
  create: (config, deps) => new WebhookChannel(config, deps),
  resolveFiles: resolveCaFile,
};
