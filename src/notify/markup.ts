// How values from alerts are made literal text in each helpdesk's markup, as render.ts's HTML
// escaping does for mail. Anyone who can send an alert chooses these values, so a link with a
// misleading text, an image that calls home or a block of HTML must arrive as the text it is.

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML: the five characters that HTML gives meaning (not `/`, which mustache adds and makes links unreadable). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/** The markup a ticket field is rendered with. */
export type TicketMarkup = 'plain' | 'jira-wiki' | 'servicenow-journal';

// Jira's BackslashEscapeRendererComponent: a backslash before one of these shows the character.
// One pass, so the `#` of the backslash's entity is not escaped in turn.
const JIRA_SPECIAL = /[-#*_+?^~|%{}[\]()!@\\]/g;

/**
 * Jira wiki markup (Server/Data Center text fields, and what the Service Management request API
 * takes for description and comments): each markup character gets a backslash. A backslash itself
 * cannot be escaped that way (two of them are a line break), so it becomes the entity `&#92;`.
 */
export function escapeJiraWiki(value: string): string {
  return value.replace(JIRA_SPECIAL, (c) => (c === '\\' ? '&#92;' : `\\${c}`));
}

// ServiceNow renders HTML between [code] and [/code] in journal fields (work_notes, comments).
const CODE_TAG = /\[(\s*\/?\s*code\s*)\]/gi;

/**
 * ServiceNow text and journal fields are plain text but for `[code]…[/code]`, whose content is
 * rendered as HTML. A zero-width space after the bracket breaks the tag and shows the same text.
 */
export function escapeServiceNowJournal(value: string): string {
  return value.replace(CODE_TAG, '[\u200b$1]');
}

export function markupEscape(markup: TicketMarkup): (value: string) => string {
  switch (markup) {
    case 'plain':
      return (v) => v;
    case 'jira-wiki':
      return escapeJiraWiki;
    case 'servicenow-journal':
      return escapeServiceNowJournal;
  }
}
