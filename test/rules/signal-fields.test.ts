// The one table of signal fields feeds `when`, templates and dedup_by: each field it lists reads the
// same value of a signal in all three, and a name it does not list is refused by all three.
import { describe, expect, it } from 'vitest';
import { compileWhen, whenBindings } from '../../src/rules/cel.js';
import { compileDedup } from '../../src/rules/dedup.js';
import { compileTemplate } from '../../src/rules/templates.js';
import { SIGNAL_FIELDS, VISIBLE_SIGNAL_FIELDS } from '../../src/rules/signal-fields.js';
import { signal } from './helpers.js';

const s = signal({
  source: 'alertmanager',
  target: { id: 'ap-7', kind: 'wifi-ap', name: 'AP floor 7', site: 'branch', labels: { rack: 'r2' }, dependsOn: ['sw-1'] },
  check: { name: 'HighLoss', type: 'alertmanager' },
  message: 'loss 40%',
  values: { rttMs: 12 },
  labels: { team: 'net' },
  annotations: { summary: 'packet loss' },
});
const rule = { id: 'r1', classification: { category: 'net', severity: 'major', impact: 'site', tier: 'L2', priority: 'P1' } } as const;

/** A `when` that is true exactly when the field holds what `s` holds, and the template name to show it. */
function probeOf(name: string, type: string): { when: string; template: string; shown: string } {
  switch (type) {
    case 'string':
      return { when: `${name} == ${JSON.stringify(SIGNAL_FIELDS.find((f) => f.name === name)!.read(s))}`, template: `{{${name}}}`, shown: SIGNAL_FIELDS.find((f) => f.name === name)!.read(s) as string };
    case 'string-list':
      return { when: `"sw-1" in ${name}`, template: `{{${name}}}`, shown: 'sw-1' };
    default: {
      const record = SIGNAL_FIELDS.find((f) => f.name === name)!.read(s) as Record<string, unknown>;
      const [key, value] = Object.entries(record)[0]!;
      return { when: `${name}.${key} == ${JSON.stringify(value)}`, template: `{{${name}.${key}}}`, shown: String(value) };
    }
  }
}

describe('the table of signal fields', () => {
  it.each(VISIBLE_SIGNAL_FIELDS.map((f) => [f.name, f.type] as const))('%s (%s) reads the same in when and in templates', (name, type) => {
    const p = probeOf(name, type);
    const when = compileWhen(p.when);
    expect(when.ok, p.when).toBe(true);
    if (when.ok) expect(when.when.evaluate(whenBindings(s))).toEqual({ ok: true, value: true });
    const template = compileTemplate(p.template);
    expect(template.ok).toBe(true);
    if (template.ok) expect(template.template.render(s, rule)).toBe(p.shown);
  });

  it('dedup_by takes the fields that identify a problem and refuses the ones that change per signal', () => {
    for (const f of SIGNAL_FIELDS) {
      const path = f.type === 'string-map' || f.type === 'value-map' ? `${f.name}.x` : f.name;
      const result = compileDedup([path]);
      if (f.changing) {
        expect(result.ok, f.name).toBe(false);
        if (!result.ok) expect(result.messages[0]).toContain('changes from one signal to the next');
      } else if (f.type === 'string-list') {
        expect(result.ok, f.name).toBe(false);
      } else {
        expect(result.ok, f.name).toBe(true);
      }
    }
  });

  it('a name outside the table is refused by when, templates and dedup_by alike', () => {
    expect(compileWhen('target.ip == "x"').ok).toBe(false);
    expect(compileTemplate('{{target.ip}}').ok).toBe(false);
    const dedup = compileDedup(['target.ip']);
    expect(dedup.ok).toBe(false);
    if (!dedup.ok) {
      expect(dedup.messages[0]).toBe(
        "unknown dedup path 'target.ip'; use source, target.id, target.kind, target.name, target.site, check.name, check.type, rule.id, " +
          'target.labels.<name>, values.<name>, labels.<name> or annotations.<name>',
      );
    }
  });
});
