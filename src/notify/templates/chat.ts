// Default templates of the chat channels (slack, teams), mustache. An admin overrides either by
// putting a file of the same name into the channel's `templates_dir`: `summary.mustache` (the
// headline, one line) and `details.mustache` (the text under it); a missing file keeps the default.
// The view is render.ts's NotificationView, the same the email templates see; values are escaped
// for the channel's markup (Slack mrkdwn, Teams Adaptive Card markdown), so `{{title}}` is always
// shown as the text it is. The facts (status, severity, priority, tier, target, who) and the link to
// the incident are laid out by the channel itself and cannot be lost by an override.

export const CHAT_TEMPLATE_NAMES = ['summary', 'details'] as const;
export type ChatTemplateName = (typeof CHAT_TEMPLATE_NAMES)[number];

/** The headline; the channel puts the incident number (linked, when link_base_url is set) in front. */
const summary = '{{event.label}}: {{title}}';

const details = `{{#event.message}}
{{event.message}}
{{/event.message}}
{{#description}}
{{description}}
{{/description}}
Last message: {{last_message}} ({{occurrences}} occurrences, last seen {{{last_seen}}})
`;

export const DEFAULT_CHAT_TEMPLATES: Readonly<Record<ChatTemplateName, string>> = { summary, details };
