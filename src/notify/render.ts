// The view that notification templates render against, and mustache templates loaded once per
// channel: the shipped defaults, each one replaceable by a file in an admin's templates dir.
import fs from 'node:fs';
import path from 'node:path';
import Mustache from 'mustache';
import { IncidentdError } from '../shared/errors.js';
import { escapeHtml } from './markup.js';
import type { IncidentEvent, IncidentEventType } from './types.js';

/** Timeline entries a notification shows; a long-flapping incident has hundreds. */
export const TIMELINE_EXCERPT = 10;

export interface NotificationView {
  number: string;
  title: string;
  description: string;
  runbook: string;
  status: string;
  category: string;
  severity: string;
  impact: string;
  priority: string;
  tier: string;
  flapping: boolean;
  occurrences: number;
  last_message: string;
  first_seen: string;
  last_seen: string;
  target: { id: string; kind: string; name: string; site: string };
  check: { name: string; type: string };
  labels: { name: string; value: string }[];
  /** `notice`: one plain sentence on what the event means, for people outside IT (subscribers). */
  event: { id: string; type: IncidentEventType; label: string; notice: string; at: string; actor: string; message: string };
  link: string;
  timeline: { at: string; actor: string; action: string; message: string }[];
  timeline_more: number;
}

const VIEW_KEYS: readonly string[] = [
  'number', 'title', 'description', 'runbook', 'status', 'category', 'severity', 'impact', 'priority', 'tier',
  'flapping', 'occurrences', 'last_message', 'first_seen', 'last_seen', 'target', 'check', 'labels', 'event',
  'link', 'timeline', 'timeline_more',
];

export function eventLabel(event: IncidentEvent): string {
  switch (event.type) {
    case 'incident.opened':
      return 'Opened';
    case 'incident.escalated':
      return event.tier ? `Escalated to ${event.tier}` : 'Escalated';
    case 'incident.acknowledged':
      return 'Acknowledged';
    case 'incident.resolved':
      return 'Resolved';
    case 'incident.reopened':
      return 'Reopened';
    case 'incident.flapping-started':
      return 'Flapping';
    case 'incident.flapping-stopped':
      return 'Stopped flapping';
    case 'incident.commented':
      return 'Comment';
  }
}

/** What the event means to someone affected by the incident, in plain words. */
export function eventNotice(event: IncidentEvent): string {
  switch (event.type) {
    case 'incident.opened':
      return 'We have registered this problem and are working on it.';
    case 'incident.reopened':
      return 'The problem has come back; we are working on it again.';
    case 'incident.acknowledged':
      return 'A technician has taken on this problem.';
    case 'incident.escalated':
      return 'The problem has been handed to more specialised staff.';
    case 'incident.resolved':
      return 'The problem has been resolved.';
    case 'incident.flapping-started':
      return 'The problem comes and goes; we are watching it.';
    case 'incident.flapping-stopped':
      return 'The problem no longer comes and goes.';
    case 'incident.commented':
      return 'A technician added a note.';
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Where a reporter follows their reports in the portal: the staff's incident page is closed to them. */
export function reporterLink(linkBase: string | undefined): string {
  return portalLink(linkBase, '/my-reports');
}

/** A page of the portal under the daemon's public base URL; '' without one. */
function portalLink(linkBase: string | undefined, page: string): string {
  return linkBase ? `${linkBase.replace(/\/+$/, '')}${page}` : '';
}

/**
 * `linkBase` is the daemon's public base URL; the link opens the incident's page in the portal for
 * staff, and the reporter's own reports for the people an incident affects (`reader: 'reporter'`).
 */
export function notificationView(event: IncidentEvent, linkBase?: string, reader: 'staff' | 'reporter' = 'staff'): NotificationView {
  const inc = event.incident;
  const recent = inc.timeline.slice(-TIMELINE_EXCERPT);
  return {
    number: inc.number,
    title: inc.title,
    description: inc.description,
    runbook: inc.runbook,
    status: inc.status,
    category: inc.category,
    severity: inc.severity,
    impact: inc.impact,
    priority: inc.priority,
    tier: event.tier ?? inc.tier,
    flapping: inc.flapping,
    occurrences: inc.occurrences,
    last_message: inc.lastMessage,
    first_seen: iso(inc.firstSeen),
    last_seen: iso(inc.lastSeen),
    target: { id: inc.target.id, kind: inc.target.kind, name: inc.target.name, site: inc.target.site },
    check: { name: inc.check.name, type: inc.check.type },
    labels: Object.entries(inc.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    event: {
      id: event.id,
      type: event.type,
      label: eventLabel(event),
      notice: eventNotice(event),
      at: iso(event.at),
      actor: event.actor ?? 'system',
      message: event.message ?? '',
    },
    link: reader === 'reporter' ? reporterLink(linkBase) : portalLink(linkBase, `/incidents/${encodeURIComponent(inc.number)}`),
    timeline: recent.map((e) => ({ at: iso(e.at), actor: e.actor, action: e.action, message: e.message })),
    timeline_more: inc.timeline.length - recent.length,
  };
}

type Token = unknown[];

/**
 * The first top-level name the view cannot supply, so a typo is a load error rather than an empty
 * field in every mail. Inside sections the context may be a list item, so names there are free.
 */
function unknownName(tokens: Token[]): string | undefined {
  for (const t of tokens) {
    const type = String(t[0]);
    const name = String(t[1]);
    if (type === '>') return `partials are not supported ({{> ${name}}})`;
    if (['name', '&', '#', '^'].includes(type) && name !== '.') {
      const first = name.split('.')[0] ?? '';
      if (!VIEW_KEYS.includes(first)) return `unknown name '{{${name}}}'; the view has ${VIEW_KEYS.join(', ')}`;
    }
  }
  return undefined;
}

export interface Template {
  readonly name: string;
  /** Where it came from: `default` or the override file. */
  readonly origin: string;
  render(view: NotificationView): string;
}

/** A template could not be read or does not parse; the message names the file. */
export class TemplateError extends IncidentdError {}

const PLAIN_TEXT = { escape: (v: unknown): string => String(v) };
// Mustache's own escaping also turns "/" into &#x2F;, which makes links in mail sources unreadable.
const HTML = { escape: (v: unknown): string => escapeHtml(String(v)) };

/**
 * Parses `source` now; `html: true` HTML-escapes values, `escape` applies a markup's own escaping
 * (see markup.ts), otherwise they are inserted as they are. `{{{name}}}` is never escaped: the
 * templates use it only for what incidentd itself writes (numbers, times, its own links).
 */
export function compileTemplate(
  name: string,
  origin: string,
  source: string,
  opts: { html: boolean; escape?: (value: string) => string },
): Template {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(source);
  } catch (err) {
    throw new TemplateError(`${origin}: template syntax error: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problem = unknownName(tokens);
  if (problem) throw new TemplateError(`${origin}: ${problem}`);
  const markup = opts.escape;
  const config = opts.html ? HTML : markup !== undefined ? { escape: (v: unknown): string => markup(String(v)) } : PLAIN_TEXT;
  return {
    name,
    origin,
    render: (view) => Mustache.render(source, view, undefined, config),
  };
}

/**
 * Loads `names` from `dir` where a `<name>.mustache` file exists there, the default otherwise. Read
 * synchronously, once, when the channel is built (at config load), so a broken override stops the
 * config from loading instead of every notification. `escape`: a markup's own escaping for the
 * values (see compileTemplate), for templates that are neither HTML nor plain text.
 */
export function loadTemplates<N extends string>(
  defaults: Readonly<Record<N, string>>,
  dir: string | undefined,
  html: (name: N) => boolean,
  escape?: (value: string) => string,
): Record<N, Template> {
  if (dir !== undefined) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch (err) {
      throw new TemplateError(`templates_dir ${dir} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!stat.isDirectory()) throw new TemplateError(`templates_dir ${dir} is not a directory`);
  }
  const out = {} as Record<N, Template>;
  for (const name of Object.keys(defaults) as N[]) {
    const file = dir === undefined ? undefined : path.join(dir, `${name}.mustache`);
    if (file !== undefined && fs.existsSync(file)) {
      let source: string;
      try {
        source = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new TemplateError(`${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
      }
      out[name] = compileTemplate(name, file, source, { html: html(name), ...(escape ? { escape } : {}) });
    } else {
      out[name] = compileTemplate(name, `default ${name} template`, defaults[name], { html: html(name), ...(escape ? { escape } : {}) });
    }
  }
  return out;
}
