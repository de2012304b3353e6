// A match renders its title, description and runbook when they are read, once, and the same text
// as before: the engine itself renders nothing while classifying.
import Mustache from 'mustache';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileRules } from '../../src/rules/compile.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

/** Renders begun: the interpreter also calls itself for each section, with a child context. */
function rendersOf(spy: { mock: { calls: unknown[][] } }): number {
  return spy.mock.calls.filter((c) => (c[1] as { parent?: unknown }).parent === undefined).length;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lazy match text', () => {
  it('classifies without rendering and renders each text once when read', () => {
    const { engine, issues } = compileRules(
      [
        rule('down', 'target.kind == "server"', {
          // Sections over the whole target and over `{{.}}`: shapes only the interpreter renders.
          title: '{{#target}}{{name}} is down{{/target}}',
          description: '{{#message}}Says: {{.}}{{/message}}',
        }),
      ],
      UNCATEGORIZED,
      { titlePrefix: () => 'ACME' },
    );
    expect(issues).toEqual([]);
    const renders = vi.spyOn(Mustache.Writer.prototype, 'renderTokens');
    const s = signal();
    const [m] = engine.classify({ ...s, target: { ...s.target, tenant: 'acme' } });
    expect(m?.ruleId).toBe('down');
    expect(rendersOf(renders)).toBe(0);

    expect(m!.title).toBe(`[ACME] ${s.target.name} is down`);
    expect(m!.title).toBe(`[ACME] ${s.target.name} is down`);
    expect(rendersOf(renders)).toBe(1);
    expect(m!.description).toBe(`Says: ${s.message}`);
    expect(rendersOf(renders)).toBe(2);
    expect(JSON.parse(JSON.stringify(m))).toMatchObject({ title: `[ACME] ${s.target.name} is down`, description: `Says: ${s.message}`, runbook: '' });
  });
});
