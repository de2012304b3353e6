// slack: one message per incident event to an incoming webhook of Slack, Mattermost or Rocket.Chat.
// All three take the same JSON: `text` (mrkdwn; also the notification and the fallback), optional
// `username`, `icon_emoji` or `icon_url`, `channel`, and `attachments` (color, text, fields) —
// Mattermost and Rocket.Chat document them as "Slack-compatible". Block Kit (`blocks`) is Slack's
// alone: `format: blocks` sends it for Slack workspaces.
//
// Answers, as the receivers document them:
// - Slack: 200 `ok`; refusals are plain words with a 4xx: 400 invalid_payload / user_not_found /
//   too_many_attachments, 403 action_prohibited / posting_to_general_channel_denied /
//   invalid_token, 404 channel_not_found / no_service / no_team, 410 channel_is_archived /
//   team_disabled; 429 (about one message a second per webhook) with Retry-After.
// - Mattermost: 200 `ok`; errors as JSON `{"id": …, "message": …, "status_code": …}`.
// - Rocket.Chat: 200 `{"success": true}`; a refusal says `"success": false` with an `error`.
// User text (titles, messages, target names) is escaped for mrkdwn: `&`, `<`, `>` become entities,
// so no alert can post a link, a mention (`<!channel>`) or markup, and a bare `@channel`/`@here`/
// `@all` (which Mattermost and Rocket.Chat turn into a mention) is broken by a zero-width space.
import { z } from 'zod';
import {
  chatFacts,
  chatFields,
  chatView,
  ChatWebhookChannel,
  eventTone,
  resolveChatFiles,
  type ChatKindSpec,
  type Tone,
} from './chat.js';
import type { NotificationView, Template } from './render.js';
import type { ChatTemplateName } from './templates/chat.js';
import type { ChannelKind, IncidentEvent } from './types.js';

export const slackChannelSchema = z
  .strictObject({
    ...chatFields,
    type: z.literal('slack'),
    format: z
      .enum(['attachments', 'blocks'])
      .default('attachments')
      .describe(
        'attachments: text plus a coloured attachment with the facts, shown alike by Slack, Mattermost and Rocket.Chat. blocks: Slack Block Kit sections (Slack only). Default attachments.',
      ),
    username: z.string().min(1).max(80).optional().describe('Name the message is posted under (where the receiver allows overriding it).'),
    icon_emoji: z
      .string()
      .regex(/^:[a-z0-9_+'-]+:$/, { error: 'expected an emoji code like ":rotating_light:"' })
      .optional()
      .describe('Emoji shown as the poster\'s picture, e.g. ":rotating_light:".'),
    icon_url: z.url({ protocol: /^https?$/ }).optional().describe('Image shown as the poster\'s picture.'),
    channel: z
      .string()
      .min(1)
      .optional()
      .describe('Channel to post in instead of the webhook\'s own (Mattermost, Rocket.Chat, legacy Slack webhooks; Slack app webhooks ignore it).'),
  })
  .refine((c) => c.icon_emoji === undefined || c.icon_url === undefined, {
    error: 'set icon_emoji or icon_url, not both',
    path: ['icon_url'],
  })
  .describe('Messages to a Slack, Mattermost or Rocket.Chat incoming webhook.');

export type SlackChannelConfig = z.output<typeof slackChannelSchema>;

const MENTION = /@(channel|here|all|everyone)\b/gi;

/** Slack mrkdwn: `&`, `<`, `>` as entities (Slack's rule for all text), and bare mass mentions broken. */
export function escapeMrkdwn(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MENTION, '@\u200b$1');
}

const COLORS: Readonly<Record<Tone, string>> = { trouble: '#d40000', warning: '#f2a900', quiet: '#8a8a8a', good: '#2eb67d' };
const EMOJI: Readonly<Record<Tone, string>> = {
  trouble: ':rotating_light:',
  warning: ':warning:',
  quiet: ':eyes:',
  good: ':white_check_mark:',
};

/** Block Kit section text is at most 3,000 characters. */
const MAX_SECTION = 3000;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** `<link|INC-000123>`, or the bare number without a link base. */
function numberRef(view: NotificationView): string {
  if (view.link === '') return `*${view.number}*`;
  // `|` and `>` end Slack's link syntax; a base URL with them would break the link.
  const url = view.link.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C');
  return `<${url}|${view.number}>`;
}

export interface SlackPayload {
  text: string;
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
  channel?: string;
  attachments?: unknown[];
  blocks?: unknown[];
}

/** The JSON posted for `event`. */
export function slackPayload(
  config: SlackChannelConfig,
  templates: Readonly<Record<ChatTemplateName, Template>>,
  event: IncidentEvent,
): SlackPayload {
  const view = chatView(event, config.link_base_url);
  const tone = eventTone(event);
  const headline = `${EMOJI[tone]} ${numberRef(view)} ${templates.summary.render(view).replace(/\s+/g, ' ').trim()}`;
  const details = clip(templates.details.render(view).trim(), MAX_SECTION);
  const facts = chatFacts(view).map((f) => ({ title: f.title, value: escapeMrkdwn(f.value) }));
  const footer = `incidentd · ${event.type} · ${view.event.at}`;
  const payload: SlackPayload = { text: headline };
  if (config.username !== undefined) payload.username = config.username;
  if (config.icon_emoji !== undefined) payload.icon_emoji = config.icon_emoji;
  if (config.icon_url !== undefined) payload.icon_url = config.icon_url;
  if (config.channel !== undefined) payload.channel = config.channel;
  if (config.format === 'blocks') {
    payload.blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: clip(headline, MAX_SECTION) } },
      { type: 'section', fields: facts.map((f) => ({ type: 'mrkdwn', text: clip(`*${f.title}*\n${f.value}`, 2000) })) },
      ...(details === '' ? [] : [{ type: 'section', text: { type: 'mrkdwn', text: details } }]),
      { type: 'context', elements: [{ type: 'mrkdwn', text: footer }] },
    ];
    return payload;
  }
  payload.attachments = [
    {
      color: COLORS[tone],
      fallback: headline,
      ...(details === '' ? {} : { text: details }),
      fields: facts.map((f) => ({ title: f.title, value: f.value, short: true })),
      footer,
      ts: Math.floor(event.at / 1000),
      mrkdwn_in: ['text', 'fields'],
    },
  ];
  return payload;
}

/** What to check when the receiver refuses, by Slack's error words first, then by status. */
function slackAdvice(status: number, said: string | undefined): string {
  const word = said?.trim() ?? '';
  if (/^(no_service|no_service_id|no_team|team_disabled|invalid_token)$/.test(word))
    return 'the webhook no longer exists (removed, or its app uninstalled); create a new incoming webhook and set url';
  if (/^(channel_not_found|channel_is_archived)$/.test(word))
    return "the webhook's channel was deleted or archived; unarchive it, or create a webhook for another channel and set url";
  if (/^(action_prohibited|posting_to_general_channel_denied)$/.test(word)) return 'a workspace admin restricts posting to this channel';
  if (/^(invalid_payload|too_many_attachments|user_not_found)$/.test(word))
    return 'the message was refused; check channel, username and icon settings (an unknown channel or user is refused)';
  if (status === 401 || status === 403) return 'the receiver does not accept this webhook; check that url is the current one';
  if (status === 404 || status === 410) return 'no webhook at this url any more; create a new incoming webhook and set url';
  return "the receiver refuses this request; check the channel's settings";
}

/** Rocket.Chat answers 200 with `"success": false` when its integration refuses the message. */
function rocketChatRefusal(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { success?: unknown; error?: unknown };
  if (b.success !== false) return undefined;
  return typeof b.error === 'string' && b.error !== '' ? b.error : '"success": false';
}

const SLACK: ChatKindSpec<SlackChannelConfig> = {
  type: 'slack',
  vendor: 'Slack-compatible',
  escape: escapeMrkdwn,
  payload: slackPayload,
  advice: slackAdvice,
  refusedWith: rocketChatRefusal,
};

export const slackChannel: ChannelKind<typeof slackChannelSchema> = {
  type: 'slack',
  schema: slackChannelSchema,
  create: (config, deps) => new ChatWebhookChannel(SLACK, config, deps),
  resolveFiles: resolveChatFiles,
};
