// What the chat channels (slack, teams) share: the webhook URL as a secret that never reaches a log
// line or a stored error, the facts every message shows, the templates, and one POST that turns the
// receiver's answer into a DeliveryResult. Retries, backoff and dead letters are the outbox's.
//
// The URL of an incoming webhook is its only credential: whoever has it can post to the channel.
// So errors name the receiver by scheme and host only (`https://hooks.slack.com/…`), and nothing
// that holds the URL (axios errors carry their request config) is logged.
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import { parseDuration } from '../shared/duration.js';
import type { Logger } from '../shared/logger.js';
import { loadAxios } from '../shared/axios.js';
import { channelTls, classifyTransportError, parseRetryAfter, resolveCaFile, tlsFields, type ChannelTls } from './http.js';
import { eventLabel, loadTemplates, notificationView, TemplateError, type NotificationView, type Template } from './render.js';
import { DEFAULT_CHAT_TEMPLATES, type ChatTemplateName } from './templates/chat.js';
import { channelId, channelTimeout } from './email.js';
import { linkBaseUrl } from './ticket.js';
import {
  ChannelConfigError,
  delivered,
  permanent,
  retryable,
  type Channel,
  type ChannelDeps,
  type DeliveryResult,
  type IncidentEvent,
} from './types.js';

/** The schema fields both chat channels have. */
export const chatFields = {
  id: channelId,
  url: z
    .url({ protocol: /^https?$/, error: 'expected the http:// or https:// URL of the incoming webhook' })
    .describe('The incoming webhook URL. It is a secret (anyone with it can post): write it as ${ENV}; logs show only its host.'),
  link_base_url: linkBaseUrl.describe('Public base URL of this daemon; messages link to the incident’s page in the portal, <base>/incidents/INC-000123.'),
  templates_dir: z
    .string()
    .min(1)
    .optional()
    .describe('Directory with summary.mustache and/or details.mustache overriding the shipped templates. Relative to the config file.'),
  timeout: channelTimeout('10s'),
  ...tlsFields,
};

/** `https://hooks.slack.com/…`: the receiver as logs and errors show it. */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(webhook url)';
  }
}

/** `text` with every appearance of the secret URL (whole, or its path and query) replaced. */
export function scrubUrl(text: string, url: string, redacted: string): string {
  let out = text.split(url).join(redacted);
  try {
    const u = new URL(url);
    const secretPart = `${u.pathname}${u.search}`;
    if (secretPart.length > 1) out = out.split(secretPart).join('/…');
  } catch {
    // An unparsable URL never passed the schema; nothing more to scrub.
  }
  return out;
}

/**
 * The headline word of an event. A severity raised by a rule comes as an escalation whose message
 * says so; chat readers see it as what it is.
 */
export function chatLabel(event: IncidentEvent): string {
  if (event.type === 'incident.escalated' && event.message?.startsWith('severity raised')) {
    return `Severity raised to ${event.incident.severity}`;
  }
  return eventLabel(event);
}

/** The view the chat templates render, with chatLabel as event.label. */
export function chatView(event: IncidentEvent, linkBase: string | undefined): NotificationView {
  const view = notificationView(event, linkBase);
  return { ...view, event: { ...view.event, label: chatLabel(event) } };
}

export interface Fact {
  title: string;
  value: string;
}

/** The facts every chat message shows, as plain text; each channel escapes them for its markup. */
export function chatFacts(view: NotificationView): Fact[] {
  const t = view.target;
  return [
    { title: 'Status', value: `${view.status}${view.flapping ? ', flapping' : ''}` },
    { title: 'Severity', value: view.severity },
    { title: 'Priority', value: `${view.priority} (impact ${view.impact})` },
    { title: 'Tier', value: view.tier },
    { title: 'Target', value: `${t.name} (${t.kind} ${t.id}${t.site ? `, site ${t.site}` : ''})` },
    { title: 'By', value: view.event.actor },
  ];
}

/** What an event looks like: red for trouble, green when it is over. */
export type Tone = 'trouble' | 'warning' | 'quiet' | 'good';

export function eventTone(event: IncidentEvent): Tone {
  switch (event.type) {
    case 'incident.resolved':
    case 'incident.flapping-stopped':
      return 'good';
    case 'incident.acknowledged':
    case 'incident.commented':
      return 'quiet';
    case 'incident.flapping-started':
      return 'warning';
    case 'incident.opened':
    case 'incident.reopened':
    case 'incident.escalated':
      return event.incident.severity === 'major' || event.incident.severity === 'severe' ? 'trouble' : 'warning';
  }
}

/** Loads a chat channel's templates with its markup's escaping; a broken override is a ChannelConfigError. */
export function chatTemplates(id: string, dir: string | undefined, escape: (value: string) => string): Record<ChatTemplateName, Template> {
  try {
    return loadTemplates(DEFAULT_CHAT_TEMPLATES, dir, () => false, escape);
  } catch (err) {
    if (err instanceof TemplateError) throw new ChannelConfigError(id, err.message, { cause: err });
    throw err;
  }
}

/** A chat channel's resolveFiles: templates_dir and ca_file made absolute. */
export function resolveChatFiles<C extends { templates_dir?: string | undefined; ca_file?: string | undefined }>(
  config: C,
  resolve: (file: string) => string,
): C {
  const withCa = resolveCaFile(config, resolve);
  return config.templates_dir === undefined ? withCa : { ...withCa, templates_dir: resolve(config.templates_dir) };
}

export interface ChatReceiver {
  /** Vendor name for messages: `Slack-compatible`, `Microsoft Teams`. */
  vendor: string;
  url: string;
  timeoutMs: number;
  tls: ChannelTls;
  clock: Clock;
  log: Logger;
  /** The vendor's error text from a refusal's body (parsed JSON, or the text). */
  errorText: (body: unknown) => string | undefined;
  /** What to do about a refusal (4xx other than 408/429): a sentence naming what to check. */
  advice: (status: number, vendorText: string | undefined) => string;
  /** A 2xx answer that still reports a failure (Rocket.Chat's `{"success": false}`). */
  refusedWith?: (body: unknown) => string | undefined;
}

/** Biggest answer read; webhook answers are `ok` or a short JSON error. */
const MAX_ANSWER_BYTES = 64 * 1024;

function parseAnswer(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  const t = text.trim();
  if (t === '') return undefined;
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return t;
    }
  }
  return t;
}

/** A redirect's target, relative to the webhook URL, as redactUrl shows it. */
function redactLocation(location: string, base: string): string {
  try {
    return redactUrl(new URL(location, base).href);
  } catch {
    return '(an unreadable location)';
  }
}

/** One line of at most 200 characters. */
function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * POSTs `payload` as JSON to the webhook once and sorts the answer: 2xx delivered; 408, 429 and 5xx
 * retryable with the receiver's Retry-After; a redirect or any other 4xx permanent, with the
 * receiver's own words and what to check. No error names more of the URL than its host.
 */
export async function postToWebhook(r: ChatReceiver, payload: unknown, event: IncidentEvent, signal: AbortSignal): Promise<DeliveryResult> {
  const redacted = redactUrl(r.url);
  const what = `${r.vendor} webhook POST ${redacted}`;
  const result = await post(r, what, payload, signal);
  if (result.outcome === 'ok') return result;
  const error = scrubUrl(result.error, r.url, redacted);
  r.log.debug({ incident: event.incident.number, event: event.id, outcome: result.outcome, error }, 'chat delivery failed');
  return result.outcome === 'permanent' ? permanent(error) : retryable(error, result.retryAfterMs);
}

async function post(r: ChatReceiver, what: string, payload: unknown, signal: AbortSignal): Promise<DeliveryResult> {
  // A real timer on purpose: it bounds socket I/O with the receiver, not scheduling logic.
  const attempt = AbortSignal.any([signal, AbortSignal.timeout(r.timeoutMs)]);
  let status: number;
  let headers: Record<string, unknown>;
  let body: unknown;
  try {
    const axios = await loadAxios();
    const res = await axios.post<string>(r.url, JSON.stringify(payload), {
      headers: { 'User-Agent': 'incidentd', 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json, text/plain' },
      timeout: r.timeoutMs,
      signal: attempt,
      httpsAgent: r.tls.agent,
      transformRequest: [(d: unknown) => d],
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      // A redirected POST turns into a GET on most servers; the URL should be the final one.
      maxRedirects: 0,
      maxContentLength: MAX_ANSWER_BYTES,
    });
    status = res.status;
    headers = res.headers;
    body = parseAnswer(res.data);
  } catch (err) {
    return classifyTransportError(err, signal, what, r.timeoutMs, { caFile: r.tls.caFile });
  }
  const vendorText = r.errorText(body);
  const said = vendorText !== undefined ? `: ${oneLine(vendorText)}` : '';
  if (status >= 200 && status <= 299) {
    const refused = r.refusedWith?.(body);
    if (refused !== undefined) return permanent(`${what} answered ${status} but refused the message: ${oneLine(refused)}`);
    return delivered();
  }
  const answer = `${what} answered ${status}${said}`;
  if (status === 408 || status === 429 || status >= 500) return retryable(answer, parseRetryAfter(headers['retry-after'], r.clock.now()));
  if (status >= 300 && status <= 399) {
    // Only the host of the new location: it may hold a secret of its own.
    const location = typeof headers.location === 'string' ? ` to ${redactLocation(headers.location, r.url)}` : '';
    return permanent(`${what} redirected${location} (status ${status}); set url to the webhook's final address`);
  }
  return permanent(`${answer}; ${r.advice(status, vendorText)}`);
}

/** The error text of a chat receiver's refusal: Slack's plain word, Mattermost's or Rocket.Chat's JSON. */
export function chatErrorText(body: unknown): string | undefined {
  if (typeof body === 'string') return body === '' ? undefined : body;
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { message?: unknown; error?: unknown };
  if (typeof b.message === 'string' && b.message !== '') return b.message;
  if (typeof b.error === 'string' && b.error !== '') return b.error;
  if (b.error !== null && typeof b.error === 'object') {
    const e = b.error as { code?: unknown; message?: unknown };
    const parts = [e.code, e.message].filter((x): x is string => typeof x === 'string' && x !== '');
    if (parts.length > 0) return parts.join(': ');
  }
  return undefined;
}

/** What a chat channel kind adds to the shared webhook channel: its vendor's payload and answers. */
export interface ChatKindSpec<C> {
  type: string;
  vendor: string;
  /** Escaping of user text in the vendor's markup, for template overrides too. */
  escape: (value: string) => string;
  payload: (config: C, templates: Readonly<Record<ChatTemplateName, Template>>, event: IncidentEvent) => unknown;
  advice: ChatReceiver['advice'];
  refusedWith?: ChatReceiver['refusedWith'];
}

type ChatConfig = { id: string; url: string; timeout: string; templates_dir?: string | undefined; ca_file?: string | undefined; tls_skip_verify: boolean };

/** One chat webhook channel: renders the kind's payload and posts it (see postToWebhook). */
export class ChatWebhookChannel<C extends ChatConfig> implements Channel {
  readonly type: string;
  readonly id: string;
  private readonly templates: Record<ChatTemplateName, Template>;
  private readonly receiver: ChatReceiver;

  constructor(
    private readonly spec: ChatKindSpec<C>,
    private readonly config: C,
    deps: ChannelDeps,
  ) {
    this.type = spec.type;
    this.id = config.id;
    this.templates = chatTemplates(config.id, config.templates_dir, spec.escape);
    this.receiver = {
      vendor: spec.vendor,
      url: config.url,
      timeoutMs: parseDuration(config.timeout) ?? 10_000,
      tls: channelTls(config.id, config),
      clock: deps.clock,
      log: deps.logger.child({ channel: config.id, channelType: spec.type, receiver: redactUrl(config.url) }),
      errorText: chatErrorText,
      advice: spec.advice,
      ...(spec.refusedWith ? { refusedWith: spec.refusedWith } : {}),
    };
  }

  async deliver(event: IncidentEvent, signal: AbortSignal): Promise<DeliveryResult> {
    let payload: unknown;
    try {
      payload = this.spec.payload(this.config, this.templates, event);
    } catch (err) {
      return permanent(`rendering the message templates failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return postToWebhook(this.receiver, payload, event, signal);
  }

  close(): Promise<void> {
    this.receiver.tls.agent?.destroy();
    return Promise.resolve();
  }
}
