// How long one rule evaluation may take at most: conditions that walk a long label in the costly
// shapes (nested comprehensions, a string function per character), each evaluated until the cost
// bound stops it, and ordinary rules for comparison. Prints milliseconds per evaluation (median
// and worst of 21).
// Then the everyday cost: µs per signal through the shipped rules (rules/*.yaml), for signals that
// no rule matches and ones that a rule matches.
//   npm run bench:rule-cost [-- --shipped]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { compileRules } from '../src/rules/compile.js';
import { MAX_EVALUATION_COST } from '../src/rules/cel.js';
import type { RuleConfig } from '../src/rules/config.js';
import type { Signal } from '../src/domain/signal.js';

const SHAPES = [
  'labels.x.split("").exists(a, labels.x.split("").exists(b, a != b))',
  'labels.x.split("").all(a, labels.x.split("").all(b, a == b))',
  'labels.x.split("").map(c, labels.x.lowerAscii()).size() > 0',
  'labels.x.split("").filter(c, labels.x.contains(c + "b")).size() > 0',
  'labels.x.split("").filter(c, c == "b").size() > 0',
  'labels.x.split("").map(c, c + "x").size() > 0',
  'labels.x.split("").exists(a, ["a", "b"].exists(b, labels.x.matches(a + b + "c")))',
  'labels.x.split("").exists(a, labels.x.replace(a, "b") == "")',
  'labels.exists(k, k.startsWith("team") && labels[k].lowerAscii() == "net")',
  'message.contains("timeout") || message.matches("refused|reset")',
];

function rule(when: string): RuleConfig {
  return {
    id: 'r',
    when,
    classify: { category: 'availability', severity: 'major', impact: 'site', tier: 'L2' },
    title: 't',
    description: '',
    runbook: '',
    dedupBy: ['target.id'],
    openAfter: 1,
    resolveAfter: 1,
    continue: false,
    file: 'bench',
  };
}

function signal(labelLength: number): Signal {
  const labels: Record<string, string> = { x: 'a'.repeat(labelLength), team: 'NET' };
  for (let i = 0; i < 60; i++) labels[`l${i}`] = 'x'.repeat(100);
  return {
    source: 'bench',
    target: { id: 't', kind: 'server', name: 't', site: 'hq', labels: {}, dependsOn: [] },
    check: { name: 'c', type: 'icmp' },
    status: 'fail',
    message: 'm'.repeat(100_000),
    values: {},
    labels,
    annotations: {},
    at: 0,
  };
}

// --shipped: only the shipped rules' figures (the costly shapes take a minute).
const costly = process.argv.includes('--shipped') ? [] : [3_000, 30_000];
if (costly.length > 0) console.log(`cost bound: ${MAX_EVALUATION_COST} per evaluation`);
for (const length of costly) {
  for (const when of SHAPES) {
    let errors = 0;
    const { engine } = compileRules([rule(when)], { category: 'u', severity: 'minor', impact: 'single-user', tier: 'L1' }, {
      evaluationError: () => errors++,
    });
    const s = signal(length);
    engine.classify(s);
    const times: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      engine.classify(s);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const median = times[10]!.toFixed(1).padStart(6);
    const worst = times[20]!.toFixed(1).padStart(6);
    console.log(`median ${median} ms  max ${worst} ms  ${errors > 0 ? 'stopped' : 'ok     '}  label ${length} chars  ${when}`);
  }
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function shippedSignal(source: string, checkType: string, checkName: string, kind: string, labels: Record<string, string>, values: Signal['values'] = {}): Signal {
  return {
    source,
    target: { id: 'web-1', kind, name: 'Web 1', site: 'hq', labels: {}, dependsOn: [] },
    check: { name: checkName, type: checkType },
    status: 'fail',
    message: 'failing',
    values,
    labels,
    annotations: { summary: 'something is wrong' },
    at: 0,
  };
}

const loaded = await loadConfig(
  { config: path.join(REPO, 'config/incidentd.yaml'), probesDir: path.join(REPO, 'probes'), rulesDir: path.join(REPO, 'rules') },
  {},
);
const SHIPPED_SIGNALS: [string, Signal][] = [
  ['alert no rule matches (no severity label)', shippedSignal('am', 'alertmanager', 'DiskFull', 'server', { alertname: 'DiskFull' })],
  ['alert from a generic source no rule matches', shippedSignal('hooks', 'generic', 'Backup', 'server', { alertname: 'Backup', team: 'ops' })],
  ['alert matched (severity critical)', shippedSignal('am', 'alertmanager', 'DiskFull', 'server', { alertname: 'DiskFull', severity: 'critical' })],
  ['tcp probe matched (network rules)', shippedSignal('probe', 'tcp', 'ssh', 'server', {}, { answered: false })],
];
console.log(
  `\nshipped rules: ${loaded.engine.ruleCount}, µs per signal (median of 7 rounds of 100,000): evaluate alone ` +
    '(a repeat the store does not retitle), and evaluate + title + description read (an opening, or a repeat that may retitle)',
);
/** Median µs per signal of 7 rounds of 100,000. */
function median(run: () => void): number {
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) run();
    rounds.push(((performance.now() - t) * 1000) / 100_000);
  }
  rounds.sort((a, b) => a - b);
  return rounds[3]!;
}
let sink = 0;
for (const [what, s] of SHIPPED_SIGNALS) {
  const engine = loaded.engine;
  const alone = median(() => {
    engine.evaluate(s);
  });
  const rendered = median(() => {
    const m = engine.evaluate(s).matches[0]!;
    sink += m.title.length + m.description.length;
  });
  const matched = engine.classify(s).map((m) => m.ruleId).join(', ');
  console.log(`  ${alone.toFixed(2).padStart(6)} µs  ${rendered.toFixed(2).padStart(6)} µs  ${what} -> ${matched}`);
}
if (sink < 0) console.log(sink);
