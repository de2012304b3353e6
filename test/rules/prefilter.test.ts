// The prefilter (rules that cannot match a signal by source, check type or target kind are not
// evaluated) must change nothing a user sees: same matches in the same order, same observed()
// answers for recoveries, same evaluation errors reported.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { compileRules } from '../../src/rules/compile.js';
import type { RuleConfig } from '../../src/rules/config.js';
import type { Signal, Value } from '../../src/domain/signal.js';
import { rule, signal as baseSignal, UNCATEGORIZED } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '../..');

/** A small deterministic generator, so a failure names a signal that reproduces. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SOURCES = ['probe', 'alertmanager', 'am', 'pd', 'report', 'snmp-trap', 'hooks', 'other'];
const CHECK_TYPES = ['icmp', 'tcp', 'http', 'smtp', 'imap', 'pop3', 'printer', 'wifi-ap', 'host', 'alertmanager', 'generic', 'pagerduty', 'snmp', 'dns'];
const KINDS = ['server', 'printer', 'wifi-ap', 'router', 'gateway', 'firewall', 'mail', 'nas'];
const CHECK_NAMES = ['ping', 'linkDown', 'coldStart', 'authenticationFailure', 'printerAlert', 'SSHBruteForce', 'DiskFull'];
const SEVERITIES = ['critical', 'error', 'warning', 'info', 'P1', 'p3', 'page', 'odd'];
const CATEGORIES = ['wifi', 'printer', 'email', 'server', 'other'];
const VALUE_KEYS: [string, Value[]][] = [
  ['answered', [true, false]],
  ['status', [200, 404, 500, 503]],
  ['certDaysLeft', [3, 30]],
  ['radiosDown', [0, 2]],
  ['diskUsedPercent', [50, 97]],
  ['tonerPercent', [5, 60]],
  ['jammed', [true, false]],
  ['doorOpen', [true, false]],
  ['offline', [true, false]],
  ['lowToner', [true, false]],
  ['noToner', [true, false]],
  ['lowPaper', [true, false]],
  ['noPaper', [true, false]],
  ['deviceStatus', ['down', 'warning', 'running']],
  ['conditions', ['', 'lowPaper']],
];

function generate(random: () => number): Signal {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const maybe = (): boolean => random() < 0.5;
  const labels: Record<string, string> = {};
  if (maybe()) labels.severity = pick(SEVERITIES);
  if (maybe()) labels.alertname = pick(CHECK_NAMES);
  if (maybe()) labels.category = pick(CATEGORIES);
  const values: Record<string, Value> = {};
  // Values often missing, so conditions that fail to evaluate (a missing key) are compared too.
  for (const [key, choices] of VALUE_KEYS) if (random() < 0.4) values[key] = pick(choices);
  const annotations: Record<string, string> = maybe() ? { summary: 'disk almost full' } : {};
  return {
    source: pick(SOURCES),
    target: { id: 't1', kind: pick(KINDS), name: 'Target one', site: maybe() ? 'hq' : '', labels: {}, dependsOn: [] },
    check: { name: pick(CHECK_NAMES), type: pick(CHECK_TYPES) },
    status: random() < 0.9 ? 'fail' : 'ok',
    message: 'failing',
    values,
    labels,
    annotations,
    at: 1_000,
  };
}

/** The same rules with no top-level conjunct left, so nothing can be prefiltered: the full evaluation. */
function unfiltered(rules: RuleConfig[]): RuleConfig[] {
  return rules.map((r) => ({ ...r, when: `(${r.when}) || false` }));
}

describe('prefilter over the shipped rules', () => {
  it('gives the full evaluation\'s matches, observed rules and evaluation errors for many generated signals', async () => {
    const loaded = await loadConfig(
      { config: path.join(REPO, 'config/incidentd.yaml'), probesDir: path.join(REPO, 'probes'), rulesDir: path.join(REPO, 'rules') },
      {},
    );
    const uncategorized = loaded.daemon.incidents.uncategorized;
    const errorsFast: string[] = [];
    const errorsFull: string[] = [];
    const fast = compileRules(loaded.rules, uncategorized, { evaluationError: (id, kind) => errorsFast.push(`${id}:${kind}`) });
    const full = compileRules(unfiltered(loaded.rules), uncategorized, { evaluationError: (id, kind) => errorsFull.push(`${id}:${kind}`) });
    expect(fast.issues).toEqual([]);
    expect(full.issues).toEqual([]);
    const ids = [...loaded.rules.map((r) => r.id), 'uncategorized'];
    const random = prng(19);
    const matchedRules = new Set<string>();
    for (let n = 0; n < 1_500; n++) {
      const s = generate(random);
      errorsFast.length = 0;
      errorsFull.length = 0;
      const a = fast.engine.evaluate(s);
      const b = full.engine.evaluate(s);
      // Matches render their texts lazily: compare them rendered (toJSON), titles included.
      expect(JSON.parse(JSON.stringify(a.matches)), JSON.stringify(s)).toEqual(JSON.parse(JSON.stringify(b.matches)));
      expect(ids.map((id) => a.observed(id)), JSON.stringify(s)).toEqual(ids.map((id) => b.observed(id)));
      expect(errorsFast, JSON.stringify(s)).toEqual(errorsFull);
      const ea = fast.engine.explain(s);
      const eb = full.engine.explain(s);
      expect(JSON.parse(JSON.stringify(ea.matches))).toEqual(JSON.parse(JSON.stringify(eb.matches)));
      expect(ea.shadowed).toEqual(eb.shadowed);
      expect(ea.trace.map((t) => [t.ruleId, t.matched])).toEqual(eb.trace.map((t) => [t.ruleId, t.matched]));
      for (const m of a.matches) matchedRules.add(m.ruleId);
    }
    // The generator reaches most of the rules, or the comparison above proves little.
    expect(matchedRules.size).toBeGreaterThan(loaded.rules.length * 0.75);
  }, 120_000);
});

describe('prefilter', () => {
  // A failing signal from `source` whose check has probe kind or source type `type`.
  const signal = (source: string, type: string): Signal => baseSignal({ source, check: { name: 'c', type } });

  it('keeps rule order across buckets: an always-evaluated rule between indexed ones still wins in its place', () => {
    const { engine } = compileRules(
      [
        rule('tcp-tag', 'check.type == "tcp"', { continue: true }),
        rule('trap', 'source == "snmp-trap"'),
        rule('any', 'status == "fail" || false', { continue: true }),
        rule('tcp', 'check.type in ["tcp", "http"]'),
      ],
      UNCATEGORIZED,
    );
    expect(engine.classify(signal('probe', 'tcp')).map((m) => m.ruleId)).toEqual(['tcp-tag', 'any', 'tcp']);
    expect(engine.classify(signal('snmp-trap', 'snmp')).map((m) => m.ruleId)).toEqual(['trap']);
    expect(engine.classify(signal('probe', 'icmp')).map((m) => m.ruleId)).toEqual(['any']);
  });

  it('explain says why a rule was skipped, naming the field, its value and what the rule needs', () => {
    const { engine } = compileRules([rule('web', 'check.type in ["http", "smtp"] && values.status >= 500')], UNCATEGORIZED);
    expect(engine.explain(signal('probe', 'tcp')).trace).toEqual([
      { ruleId: 'web', matched: false, reason: 'cannot match: check.type is "tcp", the condition needs one of "http", "smtp" (not evaluated)' },
    ]);
    // A signal the rule could match is evaluated as before (here: the value is missing).
    expect(engine.explain(signal('probe', 'http')).trace[0]?.reason).toMatch(/failed to evaluate/);
  });
});
