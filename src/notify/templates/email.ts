// Default templates of the email channel (mustache). An admin overrides any of them by putting a
// file of the same name into the channel's `templates_dir`: `subject.mustache`, `text.mustache`,
// `html.mustache`; a missing file keeps the default. They ship as strings, not files, so the built
// daemon (dist/ only) has them too.
//
// The view (see src/notify/render.ts):
//   number, title, description, runbook, status, category, severity, impact, priority, tier,
//   flapping, occurrences, last_message, first_seen, last_seen (ISO 8601, UTC),
//   target.{id,kind,name,site}, check.{name,type}, labels[] {name, value},
//   event.{id,type,label,notice,at,actor,message}, link (the incident's page in the portal, empty if unset),
//   timeline[] {at, actor, action, message} (the latest entries, oldest first), timeline_more
//   (how many older entries were left out).
// The subject is one line; `[INC-000123]` is put in front of it by the channel and cannot be lost.

export const EMAIL_TEMPLATE_NAMES = ['subject', 'text', 'html'] as const;
export type EmailTemplateName = (typeof EMAIL_TEMPLATE_NAMES)[number];

/** The facts block of the helpdesk texts (mail body and ticket description), one copy for both. */
export const INCIDENT_FACTS = `Incident:       {{{number}}} ({{status}}{{#flapping}}, flapping{{/flapping}})
Priority:       {{priority}} (severity {{severity}}, impact {{{impact}}})
Classification: {{category}}
Tier:           {{tier}}
Target:         {{target.name}} ({{target.kind}} {{target.id}}{{#target.site}}, site {{target.site}}{{/target.site}})
Check:          {{check.name}} ({{check.type}})
First seen:     {{{first_seen}}}
Last seen:      {{{last_seen}}} ({{occurrences}} occurrences)
Last message:   {{last_message}}
{{#labels.length}}
Labels:         {{#labels}}{{name}}={{value}} {{/labels}}
{{/labels.length}}
{{#link}}
Details:        {{{link}}}
{{/link}}
`;

const subject = '{{event.label}}: {{title}} ({{priority}} {{severity}}, {{target.name}})';

const text = `{{event.label}}: {{title}}
{{#event.message}}

{{event.message}}
{{/event.message}}

${INCIDENT_FACTS}{{#description}}

{{description}}
{{/description}}
{{#runbook}}

Runbook
-------
{{runbook}}
{{/runbook}}

Timeline{{#timeline_more}} (latest entries; {{timeline_more}} earlier ones not shown){{/timeline_more}}
--------
{{#timeline}}
{{at}}  {{action}} by {{actor}}: {{message}}
{{/timeline}}

-- 
Sent by incidentd ({{event.type}}, event {{event.id}}). Replies to this mail stay with {{number}}.
`;

const html = `<!DOCTYPE html>
<html>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="margin: 0 0 8px 0;">{{event.label}}: {{title}}</h2>
{{#event.message}}<p>{{event.message}}</p>{{/event.message}}
<table cellpadding="4" cellspacing="0" style="border-collapse: collapse;">
<tr><th align="left">Incident</th><td>{{number}} ({{status}}{{#flapping}}, flapping{{/flapping}})</td></tr>
<tr><th align="left">Priority</th><td>{{priority}} (severity {{severity}}, impact {{impact}})</td></tr>
<tr><th align="left">Classification</th><td>{{category}}</td></tr>
<tr><th align="left">Tier</th><td>{{tier}}</td></tr>
<tr><th align="left">Target</th><td>{{target.name}} ({{target.kind}} {{target.id}}{{#target.site}}, site {{target.site}}{{/target.site}})</td></tr>
<tr><th align="left">Check</th><td>{{check.name}} ({{check.type}})</td></tr>
<tr><th align="left">First seen</th><td>{{first_seen}}</td></tr>
<tr><th align="left">Last seen</th><td>{{last_seen}} ({{occurrences}} occurrences)</td></tr>
<tr><th align="left">Last message</th><td>{{last_message}}</td></tr>
{{#labels.length}}<tr><th align="left">Labels</th><td>{{#labels}}<code>{{name}}={{value}}</code> {{/labels}}</td></tr>{{/labels.length}}
{{#link}}<tr><th align="left">Details</th><td><a href="{{link}}">{{link}}</a></td></tr>{{/link}}
</table>
{{#description}}<p style="white-space: pre-wrap;">{{description}}</p>{{/description}}
{{#runbook}}<h3>Runbook</h3>
<div style="white-space: pre-wrap;">{{runbook}}</div>{{/runbook}}
<h3>Timeline</h3>
{{#timeline_more}}<p>Latest entries; {{timeline_more}} earlier ones not shown.</p>{{/timeline_more}}
<table cellpadding="4" cellspacing="0" style="border-collapse: collapse;">
{{#timeline}}<tr><td>{{at}}</td><td>{{action}}</td><td>{{actor}}</td><td>{{message}}</td></tr>
{{/timeline}}
</table>
<p style="color: #777; font-size: 12px;">Sent by incidentd ({{event.type}}, event {{event.id}}). Replies to this mail stay with {{number}}.</p>
</body>
</html>
`;

export const DEFAULT_EMAIL_TEMPLATES: Readonly<Record<EmailTemplateName, string>> = { subject, text, html };

// Defaults of an email channel with `audience: subscribers`: the people an incident affects (the
// reporter, users of the service), not the helpdesk. Plain words, no runbook, tiers or internals.
const subscriberSubject = '{{event.label}}: {{title}}';

const subscriberText = `{{event.notice}}

{{title}}
{{#event.message}}
{{event.message}}
{{/event.message}}

Reference: {{number}} (keep it in your reply)
Status:    {{status}}
Affects:   {{target.name}}{{#target.site}}, site {{target.site}}{{/target.site}}
Since:     {{first_seen}}
{{#link}}
Details:   {{link}}
{{/link}}

You receive this because you reported this problem or asked to be kept informed.
`;

const subscriberHtml = `<!doctype html>
<html><body style="font-family: sans-serif">
<p>{{event.notice}}</p>
<h2 style="margin: 0.5em 0">{{title}}</h2>
{{#event.message}}<p>{{event.message}}</p>{{/event.message}}
<table cellpadding="2">
<tr><td>Reference</td><td><b>{{number}}</b> (keep it in your reply)</td></tr>
<tr><td>Status</td><td>{{status}}</td></tr>
<tr><td>Affects</td><td>{{target.name}}{{#target.site}}, site {{target.site}}{{/target.site}}</td></tr>
<tr><td>Since</td><td>{{first_seen}}</td></tr>
{{#link}}<tr><td>Details</td><td><a href="{{link}}">{{link}}</a></td></tr>{{/link}}
</table>
<p style="color: #666">You receive this because you reported this problem or asked to be kept informed.</p>
</body></html>
`;

export const DEFAULT_SUBSCRIBER_TEMPLATES: Readonly<Record<EmailTemplateName, string>> = {
  subject: subscriberSubject,
  text: subscriberText,
  html: subscriberHtml,
};
