// Templates whose sections test one value (`{{#annotations.summary}}…{{/annotations.summary}}`)
// render without the mustache interpreter and give exactly what the interpreter gives for the same
// view; other sections still go through it. The reference here is mustache itself, over templateView.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Mustache from 'mustache';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/domain/signal.js';
import { compileTemplate, templateView, type CompiledTemplate, type TemplateRule } from '../../src/rules/templates.js';
import { signal } from './helpers.js';

const rule: TemplateRule = { id: 'r1', classification: { category: 'net', severity: 'major', impact: 'site', tier: 'L2', priority: 'P1' } };

/** What mustache renders for the template against the full view, with the same plain-text escape. */
function interpreted(source: string, s: Signal): string {
  return Mustache.render(source, templateView(s, rule), undefined, { escape: (v: unknown) => String(v) });
}

function compiled(source: string): CompiledTemplate {
  const result = compileTemplate(source);
  if (!result.ok) throw new Error(result.message);
  return result.template;
}

const SHIPPED_TITLE =
  '{{#annotations.summary}}{{check.name}}: {{annotations.summary}}{{/annotations.summary}}{{^annotations.summary}}{{check.name}} on {{target.name}}{{/annotations.summary}}';

const SIGNALS: Record<string, Signal> = {
  'summary and runbook': signal({
    source: 'alertmanager',
    check: { name: 'HighLoss', type: 'alertmanager' },
    annotations: { summary: 'packet loss 40%', runbook_url: 'https://wiki.invalid/loss' },
    labels: { severity: 'critical', zero: '0', empty: '' },
    values: { rttMs: 12, loss: 0, ratio: 0.5, up: true, down: false, word: '0', blank: '' },
  }),
  'no annotations': signal({ check: { name: 'Down', type: 'generic' }, labels: { severity: 'warning' } }),
  'empty summary': signal({ annotations: { summary: '' }, values: { loss: -0, nan: Number.NaN } }),
  'summary "0"': signal({ annotations: { summary: '0' }, target: { site: '', labels: { rack: 'r2', slot: '0' } } }),
  'empty texts': signal({ message: '', target: { name: '', site: '' }, check: { name: '', type: 'icmp' } }),
};

const TEMPLATES = [
  SHIPPED_TITLE,
  '{{#annotations.runbook_url}}Runbook: {{annotations.runbook_url}}. {{/annotations.runbook_url}}Look at it ({{source}}).',
  'before {{#annotations.summary}}in {{annotations.summary}}{{/annotations.summary}} after',
  '{{^annotations.summary}}no summary{{/annotations.summary}}|{{^annotations.missing}}missing{{/annotations.missing}}',
  '{{#labels.zero}}zero is truthy text{{/labels.zero}}{{^labels.zero}}zero is falsy{{/labels.zero}}',
  '{{#labels.empty}}empty{{/labels.empty}}{{^labels.empty}}not there or empty{{/labels.empty}}',
  '{{#values.rttMs}}rtt {{values.rttMs}} ms{{/values.rttMs}}{{^values.rttMs}}no rtt{{/values.rttMs}}',
  '{{#values.loss}}loss {{values.loss}}{{/values.loss}}{{^values.loss}}no loss ({{values.loss}}){{/values.loss}}',
  '{{#values.ratio}}{{values.ratio}}{{/values.ratio}}{{#values.nan}}nan{{/values.nan}}{{^values.nan}}not a number: {{values.nan}}{{/values.nan}}',
  '{{#values.up}}up={{values.up}}{{/values.up}} {{#values.down}}down{{/values.down}}{{^values.down}}down={{values.down}}{{/values.down}}',
  '{{#values.word}}word "{{values.word}}"{{/values.word}}{{#values.blank}}blank{{/values.blank}}{{^values.blank}}no blank{{/values.blank}}',
  '{{#annotations.summary}}{{#labels.severity}}{{labels.severity}}: {{/labels.severity}}{{^labels.severity}}?: {{/labels.severity}}{{annotations.summary}}{{/annotations.summary}}',
  '{{#check.name}}{{^annotations.summary}}{{#target.site}}{{target.site}}/{{/target.site}}{{target.name}}{{/annotations.summary}}{{/check.name}}',
  '{{#target.site}}at {{target.site}}{{/target.site}}{{^target.site}}no site{{/target.site}} {{#message}}{{message}}{{/message}}',
  '{{#target.labels.slot}}slot {{target.labels.slot}}{{/target.labels.slot}}{{#target.labels.rack}}rack {{{target.labels.rack}}}{{/target.labels.rack}}',
  '{{#status}}{{status}} {{/status}}{{#source}}{{source}}{{/source}} {{#rule.id}}{{rule.id}} {{classification.priority}}{{/rule.id}}{{^classification.tier}}never{{/classification.tier}}',
  '{{! a comment }}{{#check.type}}{{check.type}}{{/check.type}}{{=<% %>=}}<%#check.name%>[<%check.name%>]<%/check.name%>',
  '{{#annotations.summary}}\n  line {{annotations.summary}}\n{{/annotations.summary}}\nend',
];

describe('templates with sections over one value', () => {
  it.each(TEMPLATES)('%j renders without the interpreter', (source) => {
    expect(compiled(source).fast).toBe(true);
  });

  const cases = TEMPLATES.flatMap((t) => Object.keys(SIGNALS).map((name) => [t, name] as const));
  it.each(cases)('%j for %s renders what mustache renders', (source, name) => {
    const s = SIGNALS[name]!;
    expect(compiled(source).render(s, rule)).toBe(interpreted(source, s));
  });

  it('the shipped rules render every title, description and runbook without the interpreter', () => {
    const dir = path.resolve('rules');
    const sources: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const doc = YAML.parse(readFileSync(path.join(dir, file), 'utf8')) as { rules?: Record<string, unknown>[] };
      for (const r of doc.rules ?? []) for (const field of ['title', 'description', 'runbook']) if (typeof r[field] === 'string') sources.push(r[field]);
    }
    expect(sources).toContain(SHIPPED_TITLE);
    expect(sources.filter((t) => !compiled(t).fast)).toEqual([]);
  });

  it('the shipped alert title reads the summary when there is one, else names the target', () => {
    const t = compiled(SHIPPED_TITLE);
    expect(t.render(SIGNALS['summary and runbook']!, rule)).toBe('HighLoss: packet loss 40%');
    expect(t.render(SIGNALS['no annotations']!, rule)).toBe('Down on File server');
    expect(t.render(SIGNALS['empty summary']!, rule)).toBe('ping on File server');
    expect(t.render(SIGNALS['summary "0"']!, rule)).toBe('ping: 0');
  });
});

describe('sections only the interpreter renders the same', () => {
  const SLOW = [
    // The body reads the section's own value.
    '{{#annotations.summary}}{{.}}{{/annotations.summary}}',
    // A name a string has as a property, and one the view does not know (unchecked in bodies).
    '{{#check.name}}{{length}}{{/check.name}}',
    '{{#check.name}}[{{name}}]{{/check.name}}',
    // Lists are looped over, maps pushed as context.
    '{{#target.depends_on}}<{{.}}>{{/target.depends_on}}',
    '{{#labels}}{{severity}}{{/labels}}',
    '{{#target}}{{name}} at {{site}}{{/target}}',
    // Mustache finds keys of Object.prototype in a map (and calls them).
    '{{#labels.constructor}}yes{{/labels.constructor}}',
    '{{#message}}{{labels.toString}}{{/message}}',
    // A whole map renders as mustache prints an object, unlike in a template without sections.
    '{{#message}}{{labels}}{{/message}}',
  ];

  it.each(SLOW)('%j goes through the interpreter and renders what mustache renders', (source) => {
    const t = compiled(source);
    expect(t.fast).toBe(false);
    const s = signal({ labels: { severity: 'critical' }, target: { dependsOn: ['sw-1', 'sw-2'] } });
    expect(t.render(s, rule)).toBe(interpreted(source, s));
  });

  it('renders a list section once per item and a map section with the map as context', () => {
    const s = signal({ labels: { severity: 'critical' }, target: { dependsOn: ['sw-1', 'sw-2'] } });
    expect(compiled('{{#target.depends_on}}<{{.}}>{{/target.depends_on}}').render(s, rule)).toBe('<sw-1><sw-2>');
    expect(compiled('{{#labels}}{{severity}}{{/labels}}').render(s, rule)).toBe('critical');
  });
});

describe('the view roots', () => {
  it('are no property of a string, number or boolean, so names in a section body fall through to the view', () => {
    const roots = Object.keys(templateView(signal(), rule));
    expect(roots).toContain('annotations');
    for (const root of roots) {
      expect(root in String.prototype || root in Number.prototype || root in Boolean.prototype, root).toBe(false);
    }
  });
});
