// teams: one Adaptive Card per incident event to a Microsoft Teams channel or chat, through a
// Workflows (Power Automate) webhook: the "Send webhook alerts to a channel" template, or a flow
// that starts with "When a Teams webhook request is received" and posts the request's cards. The
// body is the envelope that trigger expects:
//   { "type": "message", "attachments": [ { "contentType": "application/vnd.microsoft.card.adaptive",
//     "contentUrl": null, "content": { "type": "AdaptiveCard", "version": "1.4", … } } ] }
// Office 365 (Microsoft 365) connectors, the older "Incoming Webhook" with MessageCard payloads, are
// retired by Microsoft; this channel does not speak their format.
//
// Answers: 202 Accepted (the flow runs afterwards; a failure inside the flow shows in its run
// history, not here). Refusals come from the Power Automate front door as JSON
// `{"error": {"code": …, "message": …}}`: 400 when the body does not fit the trigger, 401/403 when
// the URL's signature is wrong, 404 when the flow was deleted or turned off, 429 (throttling) with
// Retry-After.
// Adaptive Card text is markdown (bold, italic, lists, links): user text is escaped with
// backslashes so an alert cannot add links or formatting; HTML is never rendered by Teams.
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
import type { Template } from './render.js';
import type { ChatTemplateName } from './templates/chat.js';
import type { ChannelKind, IncidentEvent } from './types.js';

export const teamsChannelSchema = z
  .strictObject({
    ...chatFields,
    type: z.literal('teams'),
  })
  .describe('Adaptive Cards to a Microsoft Teams channel or chat through a Workflows (Power Automate) webhook.');

export type TeamsChannelConfig = z.output<typeof teamsChannelSchema>;

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

// Emphasis, code and link brackets act anywhere; list and heading marks only at a line's start.
// Other punctuation stays bare, so `printer-3f` reads as it is.
const INLINE_SPECIAL = /[\\`*_~[\]]/g;
const LINE_START = /^(\s*)([-+#>]|\d+\.)/gm;

/** Adaptive Card markdown (CommonMark backslash escapes): what could start markup gets a backslash. */
export function escapeCardMarkdown(value: string): string {
  return value.replace(INLINE_SPECIAL, (c) => `\\${c}`).replace(LINE_START, (_m, space: string, mark: string) => `${space}\\${mark}`);
}

// Adaptive Card colours of a TextBlock and styles of a Container.
const COLOR: Readonly<Record<Tone, string>> = { trouble: 'attention', warning: 'warning', quiet: 'default', good: 'good' };
const STYLE: Readonly<Record<Tone, string>> = { trouble: 'attention', warning: 'warning', quiet: 'emphasis', good: 'good' };

/** Characters of the details text; the card stays well under Teams' size limit. */
const MAX_DETAILS = 8000;

export interface TeamsPayload {
  type: 'message';
  attachments: { contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; contentUrl: null; content: Record<string, unknown> }[];
}

/** The JSON posted for `event`. */
export function teamsPayload(config: TeamsChannelConfig, templates: Readonly<Record<ChatTemplateName, Template>>, event: IncidentEvent): TeamsPayload {
  const view = chatView(event, config.link_base_url);
  const tone = eventTone(event);
  const summary = templates.summary.render(view).replace(/\s+/g, ' ').trim();
  const rendered = templates.details.render(view).trim();
  // Teams refuses cards over about 28 KB; a long description must not cost the whole message.
  const details = rendered.length > MAX_DETAILS ? `${rendered.slice(0, MAX_DETAILS - 3)}...` : rendered;
  const body: unknown[] = [
    {
      type: 'Container',
      style: STYLE[tone],
      bleed: true,
      items: [
        { type: 'TextBlock', text: view.number, weight: 'Bolder', color: COLOR[tone], spacing: 'None' },
        { type: 'TextBlock', text: summary, size: 'Large', weight: 'Bolder', wrap: true, spacing: 'Small' },
      ],
    },
    { type: 'FactSet', facts: chatFacts(view).map((f) => ({ title: f.title, value: escapeCardMarkdown(f.value) })) },
  ];
  // One TextBlock per line: whether a lone newline breaks the line differs between Teams clients.
  details
    .split('\n')
    .filter((line) => line.trim() !== '')
    .forEach((line, i) => body.push({ type: 'TextBlock', text: line, wrap: true, spacing: i === 0 ? 'Medium' : 'None' }));
  body.push({ type: 'TextBlock', text: `incidentd · ${event.type} · ${view.event.at}`, isSubtle: true, size: 'Small', wrap: true });
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    // Shown in notifications and chat lists, where the card itself is not.
    fallbackText: `${view.number} ${summary}`,
    body,
    msteams: { width: 'Full' },
  };
  if (view.link !== '') content.actions = [{ type: 'Action.OpenUrl', title: `Open ${view.number}`, url: view.link }];
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content }] };
}

function teamsAdvice(status: number): string {
  if (status === 401 || status === 403)
    return 'the Workflows webhook does not accept this URL (its sig parameter is wrong or was regenerated); copy the URL from the workflow again';
  if (status === 404) return 'no workflow at this URL (deleted or turned off); turn it on, or create one from "Send webhook alerts to a channel" and set url';
  if (status === 400) return 'the workflow refused the card; its trigger must be "When a Teams webhook request is received" and its post step must take the request\'s attachments';
  return "Microsoft Teams refuses this request; check the channel's settings";
}

const TEAMS: ChatKindSpec<TeamsChannelConfig> = {
  type: 'teams',
  vendor: 'Microsoft Teams',
  escape: escapeCardMarkdown,
  payload: teamsPayload,
  advice: teamsAdvice,
};

export const teamsChannel: ChannelKind<typeof teamsChannelSchema> = {
  type: 'teams',
  schema: teamsChannelSchema,
  create: (config, deps) => new ChatWebhookChannel(TEAMS, config, deps),
  resolveFiles: resolveChatFiles,
};
