// A rule that cannot match a signal (by source, check type or target kind) costs it nothing: its
// condition is never evaluated. Counted by wrapping compileWhen, so the test fails if the engine
// evaluates every rule (each condition's own guard would still say false, just later).
import { describe, expect, it, vi } from 'vitest';
import type { CompiledWhen } from '../../src/rules/cel.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

const evaluated: string[] = [];

vi.mock('../../src/rules/cel.js', async (importOriginal) => {
  const cel = await importOriginal<typeof import('../../src/rules/cel.js')>();
  return {
    ...cel,
    compileWhen: (source: string, maxCost?: number) => {
      const result = cel.compileWhen(source, maxCost);
      if (!result.ok) return result;
      const when: CompiledWhen = {
        source: result.when.source,
        fieldGuards: result.when.fieldGuards,
        evaluate: (bindings) => {
          evaluated.push(source);
          return result.when.evaluate(bindings);
        },
      };
      return { ...result, when };
    },
  };
});

const { compileRules } = await import('../../src/rules/compile.js');

describe('rules that cannot match a signal', () => {
  it('are not evaluated for it; the ones that could are, in order', () => {
    const { engine, issues } = compileRules(
      [
        rule('trap', 'source == "snmp-trap" && check.name == "linkDown"'),
        rule('printer', 'target.kind == "printer"'),
        rule('web', 'check.type in ["http", "smtp"]'),
        rule('server', 'target.kind == "server" && labels.team == "ops"'),
        rule('loss', 'has(values.packetLoss) && values.packetLoss > 50.0'),
      ],
      UNCATEGORIZED,
    );
    expect(issues).toEqual([]);
    evaluated.length = 0;
    // helpers' signal(): a probe's icmp check on a server.
    const s = signal();
    expect(s).toMatchObject({ source: 'probe', check: { type: 'icmp' }, target: { kind: 'server' } });
    engine.evaluate(s);
    expect(evaluated).toEqual(['target.kind == "server" && labels.team == "ops"', 'has(values.packetLoss) && values.packetLoss > 50.0']);
  });
});
