// The chat channels (slack, teams) against real HTTP receivers on 127.0.0.1: what each event looks
// like, how each answer of the receiver is sorted, and that the webhook URL (a secret) shows in no
// error and no log line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { channelConfigSchema, createChannel, resolveChannelFiles } from '../../src/notify/registry.js';
import { redactUrl, scrubUrl } from '../../src/notify/chat.js';
import { escapeMrkdwn, slackChannelSchema } from '../../src/notify/slack.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, escapeCardMarkdown, teamsChannelSchema } from '../../src/notify/teams.js';
import { ChannelConfigError, type Channel, type IncidentEventType } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { closedPort } from '../probe-kinds/helpers.js';
import { event, incident, T0 } from './fixtures.js';
import { vendorServer, type Reply, type VendorServer } from './vendor-server.js';

/** The secret part of every webhook URL in these tests; it must never show outside the request. */
const SECRET = 'T0001/B0002/s3cr3tW3bh00kT0k3n';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function receiver(route: (n: number) => Reply = () => ({ status: 200, body: 'ok' })): Promise<VendorServer> {
  let n = 0;
  const s = await vendorServer(() => route(++n));
  cleanup.push(() => s.close());
  return s;
}

function slack(url: string, extra: Record<string, unknown> = {}): Channel {
  const ch = createChannel(slackChannelSchema.parse({ id: 'ops-chat', type: 'slack', url, timeout: '2s', ...extra }), {
    clock: new FakeClock(T0),
    logger: silentLogger(),
  });
  cleanup.push(async () => ch.close?.());
  return ch;
}

function teams(url: string, extra: Record<string, unknown> = {}): Channel {
  const ch = createChannel(teamsChannelSchema.parse({ id: 'ops-teams', type: 'teams', url, timeout: '2s', ...extra }), {
    clock: new FakeClock(T0),
    logger: silentLogger(),
  });
  cleanup.push(async () => ch.close?.());
  return ch;
}

const signal = () => new AbortController().signal;
const LINK_BASE = 'https://incidentd.example.org';
const LINK = `${LINK_BASE}/incidents/INC-000123`;

/** Each event as the manager sends it, and the headline word a reader sees. */
const EVENTS: { type: IncidentEventType; label: string; extra?: object; inc?: object }[] = [
  { type: 'incident.opened', label: 'Opened' },
  { type: 'incident.escalated', label: 'Severity raised to major', inc: { severity: 'major', tier: 'L2' }, extra: { tier: 'L2', actor: 'escalation', message: 'severity raised to major; L2 takes over' } },
  { type: 'incident.escalated', label: 'Escalated to L3', extra: { tier: 'L3', actor: 'escalation', message: 'not acknowledged within 30m' } },
  { type: 'incident.acknowledged', label: 'Acknowledged', inc: { status: 'acknowledged' }, extra: { actor: 'alice', message: 'on my way' } },
  { type: 'incident.resolved', label: 'Resolved', inc: { status: 'resolved' }, extra: { actor: 'bob' } },
  { type: 'incident.reopened', label: 'Reopened', inc: { reopenCount: 1 } },
  { type: 'incident.flapping-started', label: 'Flapping', inc: { flapping: true } },
  { type: 'incident.flapping-stopped', label: 'Stopped flapping' },
];

describe('slack channel against a real receiver', () => {
  it('posts one readable message per event type with number, title, severity, priority, target, tier and link', async () => {
    const r = await receiver();
    const ch = slack(`${r.url}/hooks/${SECRET}`, { link_base_url: LINK_BASE, username: 'incidentd', icon_emoji: ':rotating_light:', channel: '#ops' });
    for (const e of EVENTS) {
      const ev = event(e.type, incident(e.inc), e.extra);
      expect(await ch.deliver(ev, signal()), e.type).toEqual({ outcome: 'ok' });
    }
    expect(r.requests).toHaveLength(EVENTS.length);
    r.requests.forEach((req, i) => {
      const e = EVENTS[i]!;
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`/hooks/${SECRET}`);
      expect(req.headers['content-type']).toMatch(/^application\/json/);
      const p = req.body;
      expect(p.text, e.type).toContain(`<${LINK}|INC-000123> ${e.label}: Printer 3F offline`);
      expect(p).toMatchObject({ username: 'incidentd', icon_emoji: ':rotating_light:', channel: '#ops' });
      expect(p.attachments).toHaveLength(1);
      const a = p.attachments[0];
      expect(a.color).toMatch(/^#[0-9a-f]{6}$/);
      expect(a.fallback).toBe(p.text);
      const fields = Object.fromEntries(a.fields.map((f: { title: string; value: string }) => [f.title, f.value]));
      const inc = incident(e.inc);
      expect(fields).toEqual({
        Status: `${inc.status}${inc.flapping ? ', flapping' : ''}`,
        Severity: inc.severity,
        Priority: 'P2 (impact site)',
        Tier: (e.extra as { tier?: string } | undefined)?.tier ?? inc.tier,
        Target: 'Printer 3F (printer printer-3f, site hq)',
        By: (e.extra as { actor?: string } | undefined)?.actor ?? 'system',
      });
      expect(a.footer).toContain(e.type);
    });
    // Trouble is red, the end is green.
    expect(r.requests[0]!.body.attachments[0].color).toBe('#d40000');
    expect(r.requests[4]!.body.attachments[0].color).toBe('#2eb67d');
    // The event's own words (an acknowledgement note) are in the text.
    expect(r.requests[3]!.body.attachments[0].text).toContain('on my way');
  });

  it('sends Slack Block Kit with format: blocks, and the bare number without link_base_url', async () => {
    const r = await receiver();
    await slack(`${r.url}/hooks/${SECRET}`, { format: 'blocks' }).deliver(event('incident.opened'), signal());
    const p = r.requests[0]!.body;
    expect(p.attachments).toBeUndefined();
    expect(p.text).toContain('*INC-000123* Opened: Printer 3F offline');
    expect(p.blocks.map((b: { type: string }) => b.type)).toEqual(['section', 'section', 'section', 'context']);
    expect(p.blocks[0].text).toEqual({ type: 'mrkdwn', text: p.text });
    expect(p.blocks[1].fields).toContainEqual({ type: 'mrkdwn', text: '*Severity*\nsevere' });
    expect(p.blocks[1].fields).toContainEqual({ type: 'mrkdwn', text: '*Tier*\nL1' });
  });

  it('escapes <script>, links and mass mentions from alert text as mrkdwn', async () => {
    const r = await receiver();
    const inc = incident({
      title: '<script>alert(1)</script> & <http://evil.example|click> @channel',
      target: { id: 'ap-1', kind: 'wifi-ap', name: '<!here> AP', site: 'hq', labels: {} },
      description: 'see <https://evil.example|the fix>',
    });
    await slack(`${r.url}/hooks/${SECRET}`).deliver(event('incident.opened', inc), signal());
    const p = r.requests[0]!.body;
    expect(p.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;http://evil.example|click&gt; @\u200bchannel');
    expect(p.text).not.toMatch(/<script>|<http:\/\/evil|<!here>/);
    const json = JSON.stringify(p);
    expect(json).not.toContain('<script>');
    expect(json).not.toContain('<!here>');
    expect(json).not.toContain('<https://evil');
    expect(p.attachments[0].fields.find((f: { title: string }) => f.title === 'Target').value).toBe('&lt;!here&gt; AP (wifi-ap ap-1, site hq)');
  });

  it('treats 404 no_service as permanent with the answer and what to do, without the URL', async () => {
    const r = await receiver(() => ({ status: 404, body: 'no_service' }));
    const result = await slack(`${r.url}/services/${SECRET}`).deliver(event('incident.opened'), signal());
    expect(result).toEqual({
      outcome: 'permanent',
      error: `Slack-compatible webhook POST ${r.url}/… answered 404: no_service; the webhook no longer exists (removed, or its app uninstalled); create a new incoming webhook and set url`,
    });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('treats 410 channel_is_archived as permanent, 429 and 5xx as retryable with Retry-After', async () => {
    const archived = await receiver(() => ({ status: 410, body: 'channel_is_archived' }));
    expect(await slack(`${archived.url}/services/${SECRET}`).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 410: channel_is_archived; the webhook's channel was deleted or archived/),
    });
    const limited = await receiver(() => ({ status: 429, body: 'rate_limited', headers: { 'Retry-After': '30' } }));
    expect(await slack(`${limited.url}/services/${SECRET}`).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 429: rate_limited$/),
      retryAfterMs: 30_000,
    });
    const down = await receiver(() => ({ status: 503, body: { message: 'Mattermost is in maintenance' } }));
    expect(await slack(`${down.url}/hooks/${SECRET}`).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 503: Mattermost is in maintenance$/),
    });
  });

  it("reads Mattermost's JSON errors and Rocket.Chat's success: false", async () => {
    const mm = await receiver(() => ({ status: 400, body: { id: 'web.incoming_webhook.parse.app_error', message: 'Unable to parse incoming data.', status_code: 400 } }));
    expect(await slack(`${mm.url}/hooks/${SECRET}`).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 400: Unable to parse incoming data\.; /),
    });
    const rc = await receiver(() => ({ status: 200, body: { success: false, error: 'Invalid integration' } }));
    expect(await slack(`${rc.url}/hooks/${SECRET}`).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 200 but refused the message: Invalid integration/),
    });
    const ok = await receiver(() => ({ status: 200, body: { success: true } }));
    expect(await slack(`${ok.url}/hooks/${SECRET}`).deliver(event('incident.opened'), signal())).toEqual({ outcome: 'ok' });
  });

  it('names only the host of a redirect and of a receiver that is down', async () => {
    const moved = await receiver(() => ({ status: 301, body: '', headers: { location: `https://hooks.example.invalid/services/${SECRET}-new` } }));
    const r1 = await slack(`${moved.url}/services/${SECRET}`).deliver(event('incident.opened'), signal());
    expect(r1).toEqual({ outcome: 'permanent', error: expect.stringMatching(/redirected to https:\/\/hooks\.example\.invalid\/… \(status 301\)/) });
    expect(JSON.stringify(r1)).not.toContain(SECRET);
    const port = await closedPort();
    const r2 = await slack(`http://127.0.0.1:${port}/services/${SECRET}`).deliver(event('incident.opened'), signal());
    expect(r2).toEqual({ outcome: 'retryable', error: expect.stringMatching(/connection refused/) });
    expect(JSON.stringify(r2)).not.toContain(SECRET);
  });
});

describe('teams channel against a real receiver', () => {
  it('posts an Adaptive Card in the message/attachments envelope for every event type', async () => {
    const r = await receiver(() => ({ status: 202, body: '' }));
    const url = `${r.url}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=${SECRET}`;
    const ch = teams(url, { link_base_url: LINK_BASE });
    for (const e of EVENTS) {
      const ev = event(e.type, incident(e.inc), e.extra);
      expect(await ch.deliver(ev, signal()), e.type).toEqual({ outcome: 'ok' });
    }
    expect(r.requests).toHaveLength(EVENTS.length);
    r.requests.forEach((req, i) => {
      const e = EVENTS[i]!;
      expect(req.query.sig).toBe(SECRET);
      const p = req.body;
      expect(p.type).toBe('message');
      expect(p.attachments).toHaveLength(1);
      expect(p.attachments[0]).toMatchObject({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null });
      const card = p.attachments[0].content;
      expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
      expect(card.fallbackText).toBe(`INC-000123 ${e.label}: Printer 3F offline`);
      const [head, facts] = card.body;
      expect(head.items.map((t: { text: string }) => t.text)).toEqual(['INC-000123', `${e.label}: Printer 3F offline`]);
      const inc = incident(e.inc);
      expect(Object.fromEntries(facts.facts.map((f: { title: string; value: string }) => [f.title, f.value]))).toEqual({
        Status: `${inc.status}${inc.flapping ? ', flapping' : ''}`,
        Severity: inc.severity,
        Priority: 'P2 (impact site)',
        Tier: (e.extra as { tier?: string } | undefined)?.tier ?? inc.tier,
        Target: 'Printer 3F (printer printer-3f, site hq)',
        By: (e.extra as { actor?: string } | undefined)?.actor ?? 'system',
      });
      expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open INC-000123', url: LINK }]);
    });
    expect(r.requests[0]!.body.attachments[0].content.body[0].style).toBe('attention');
    expect(r.requests[4]!.body.attachments[0].content.body[0].style).toBe('good');
    // The event's own words (an acknowledgement note) are on the card.
    expect(r.requests[3]!.body.attachments[0].content.body.map((b: { text?: string }) => b.text)).toContain('on my way');
  });

  it('leaves out the button without link_base_url, and escapes markdown in alert text', async () => {
    const r = await receiver(() => ({ status: 202, body: '' }));
    const inc = incident({ title: '<script>alert(1)</script> [click](https://evil.example) **loud**', lastMessage: '- not a list' });
    await teams(`${r.url}/invoke?sig=${SECRET}`).deliver(event('incident.opened', inc), signal());
    const card = r.requests[0]!.body.attachments[0].content;
    expect(card.actions).toBeUndefined();
    // Teams renders no HTML in cards: the tag arrives as the text it is, its markdown escaped.
    expect(card.body[0].items[1].text).toBe('Opened: <script>alert(1)</script> \\[click\\](https://evil.example) \\*\\*loud\\*\\*');
    expect(JSON.stringify(card)).not.toContain('[click](');
    const texts = card.body.map((b: { text?: string }) => b.text);
    expect(texts).toContain(`Last message: \\- not a list (3 occurrences, last seen ${new Date(inc.lastSeen).toISOString()})`);
    expect(texts).toContain(inc.description);
  });

  it('treats 404 (flow deleted) as permanent with the answer, and 429 as retryable with Retry-After', async () => {
    const gone = await receiver(() => ({ status: 404, body: { error: { code: 'WorkflowNotFound', message: "The workflow 'abc' could not be found." } } }));
    const r1 = await teams(`${gone.url}/invoke?sig=${SECRET}`).deliver(event('incident.opened'), signal());
    expect(r1).toEqual({
      outcome: 'permanent',
      error: `Microsoft Teams webhook POST ${gone.url}/… answered 404: WorkflowNotFound: The workflow 'abc' could not be found.; no workflow at this URL (deleted or turned off); turn it on, or create one from "Send webhook alerts to a channel" and set url`,
    });
    const limited = await receiver(() => ({ status: 429, body: { error: { code: 'TooManyRequests' } }, headers: { 'Retry-After': '12' } }));
    expect(await teams(`${limited.url}/invoke?sig=${SECRET}`).deliver(event('incident.opened'), signal())).toMatchObject({
      outcome: 'retryable',
      retryAfterMs: 12_000,
    });
  });
});

describe('chat channel templates', () => {
  it('takes summary.mustache and details.mustache from templates_dir, escaping values for the markup', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-chat-templates-'));
    cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'summary.mustache'), '[{{severity}}] {{title}} at {{target.site}}');
    fs.writeFileSync(path.join(dir, 'details.mustache'), 'Runbook: {{runbook}}');
    const r = await receiver();
    const inc = incident({ title: 'Disk <full>' });
    await slack(`${r.url}/hooks/${SECRET}`, { templates_dir: dir }).deliver(event('incident.opened', inc), signal());
    expect(r.requests[0]!.body.text).toContain('*INC-000123* [severe] Disk &lt;full&gt; at hq');
    expect(r.requests[0]!.body.attachments[0].text).toBe(`Runbook: ${inc.runbook}`);

    const t = await receiver(() => ({ status: 202, body: '' }));
    await teams(`${t.url}/invoke?sig=${SECRET}`, { templates_dir: dir }).deliver(event('incident.opened', incident({ title: 'Disk *full*' })), signal());
    expect(t.requests[0]!.body.attachments[0].content.body[0].items[1].text).toBe('[severe] Disk \\*full\\* at hq');
  });

  it('refuses a template with an unknown name when the channel is built', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-chat-templates-'));
    cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'summary.mustache'), '{{titel}}');
    expect(() => slack('https://hooks.example.invalid/x', { templates_dir: dir })).toThrow(ChannelConfigError);
    expect(() => teams('https://hooks.example.invalid/x', { templates_dir: dir })).toThrow(/unknown name '\{\{titel\}\}'/);
  });
});

describe('chat channel schemas and helpers', () => {
  it('are channel kinds of the channels: list', () => {
    expect(channelConfigSchema.parse({ id: 'c', type: 'slack', url: 'https://hooks.example.invalid/services/x' })).toMatchObject({
      format: 'attachments',
      timeout: '10s',
      tls_skip_verify: false,
    });
    expect(channelConfigSchema.parse({ id: 't', type: 'teams', url: 'https://flow.example.invalid/invoke?sig=x' })).toMatchObject({ timeout: '10s' });
  });

  it('resolves templates_dir and ca_file against the config folder', () => {
    const resolve = (file: string) => path.resolve('/etc/incidentd', file);
    for (const type of ['slack', 'teams']) {
      const c = channelConfigSchema.parse({ id: 'c', type, url: 'https://hooks.example.invalid/x', templates_dir: 'chat', ca_file: 'ca.pem' });
      expect(resolveChannelFiles(c, resolve), type).toMatchObject({ templates_dir: '/etc/incidentd/chat', ca_file: '/etc/incidentd/ca.pem' });
    }
  });

  it('refuses both icons, a bad emoji code, a non-http url and misspelt keys', () => {
    const base = { id: 'c', type: 'slack', url: 'https://hooks.example.invalid/services/x' };
    expect(slackChannelSchema.safeParse({ ...base, icon_emoji: ':x:', icon_url: 'https://example.org/i.png' }).success).toBe(false);
    expect(slackChannelSchema.safeParse({ ...base, icon_emoji: 'rotating_light' }).success).toBe(false);
    expect(slackChannelSchema.safeParse({ ...base, url: 'ftp://hooks.example.invalid/' }).success).toBe(false);
    expect(slackChannelSchema.safeParse({ ...base, formt: 'blocks' }).success).toBe(false);
    expect(teamsChannelSchema.safeParse({ id: 't', type: 'teams', url: 'https://flow.example.invalid/x', username: 'x' }).success).toBe(false);
  });

  it('redacts a URL to its origin and scrubs it from text', () => {
    const url = `https://hooks.slack.com/services/${SECRET}`;
    expect(redactUrl(url)).toBe('https://hooks.slack.com/…');
    expect(scrubUrl(`failed: ${url} and /services/${SECRET}`, url, redactUrl(url))).toBe('failed: https://hooks.slack.com/… and /…');
    expect(escapeMrkdwn('a & <b> @here')).toBe('a &amp; &lt;b&gt; @\u200bhere');
    expect(escapeCardMarkdown('# a_b [c]')).toBe('\\# a\\_b \\[c\\]');
  });
});
