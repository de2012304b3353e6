// Rule templates are rendered only when their text is used: an opening, reopening or retitle
// renders; a failure below open_after or a repeat of the active incident renders none of the text
// it does not use. Counted at the mustache interpreter, which a template with a section over a map
// (`{{#target}}`) or reading `{{.}}` goes through.
import Mustache from 'mustache';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { active, harness, rule, sig, target, type Harness } from './harness.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);

/** Renders begun: the interpreter also calls itself for each section, with a child context. */
function rendersOf(spy: { mock: { calls: unknown[][] } }): number {
  return spy.mock.calls.filter((c) => (c[1] as { parent?: unknown }).parent === undefined).length;
}

let h: Harness | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = null;
});

describe('lazy rendering of rule templates', () => {
  it('renders the runbook when an incident opens or reopens, not for pending failures or repeats', async () => {
    const renders = vi.spyOn(Mustache.Writer.prototype, 'renderTokens');
    h = await harness({
      rules: [
        rule({
          id: 'server-unreachable',
          when: 'check.type == "icmp"',
          openAfter: 2,
          runbook: '{{#target}}Call the owner of {{name}}.{{/target}}',
        }),
      ],
    });
    const web = target('web-1');

    await h.manager.submit(sig(web, 'fail', T0));
    expect(await active(h.store)).toHaveLength(0);
    expect(rendersOf(renders)).toBe(0);

    await h.manager.submit(sig(web, 'fail', T0 + MIN));
    const open = await active(h.store);
    expect(open).toHaveLength(1);
    expect(open[0]!.runbook).toBe('Call the owner of WEB-1.');
    expect(rendersOf(renders)).toBe(1);

    for (let i = 2; i < 6; i++) await h.manager.submit(sig(web, 'fail', T0 + i * MIN));
    expect((await active(h.store))[0]!.occurrences).toBe(6);
    expect(rendersOf(renders)).toBe(1);

    await h.manager.submit(sig(web, 'ok', T0 + 6 * MIN));
    expect(await active(h.store)).toHaveLength(0);
    await h.manager.submit(sig(web, 'fail', T0 + 7 * MIN));
    await h.manager.submit(sig(web, 'fail', T0 + 8 * MIN));
    const reopened = await h.store.get('INC-000001');
    expect(reopened!.status).toBe('open');
    expect(reopened!.reopenCount).toBe(1);
    expect(rendersOf(renders)).toBe(2);
  });

  it('renders the title of a repeat that may retitle the incident, and follows a changed title', async () => {
    const renders = vi.spyOn(Mustache.Writer.prototype, 'renderTokens');
    h = await harness({
      rules: [rule({ id: 'r', when: 'check.type == "icmp"', title: '{{#message}}{{target.name}}: {{.}}{{/message}}' })],
    });
    const web = target('web-1');
    await h.manager.submit(sig(web, 'fail', T0));
    const opened = rendersOf(renders);
    expect(opened).toBeGreaterThan(0);
    await h.manager.submit({ ...sig(web, 'fail', T0 + MIN), message: 'timeout' });
    expect(rendersOf(renders)).toBeGreaterThan(opened);
    expect((await active(h.store))[0]!.title).toBe('WEB-1: timeout');
  });
});
