// Every message names what was expected and what was found: none is zod's bare "Invalid input".
// Each case breaks one value of a real file kind (daemon config, probe file, rule file) and loads it
// through loadConfig, as `incidentd validate` does.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/shared/errors.js';

const OK_PROBES = 'targets:\n  - id: web\n    checks:\n      - type: tcp\n        host: 192.0.2.10\n        port: 80\n';
const OK_RULES =
  'rules:\n  - id: any\n    when: status == "fail"\n    classify: { category: test, severity: minor, impact: single-user, tier: L1 }\n    title: "{{target.name}} failing"\n';

/** [name, file kind, text, a fragment the message must contain] */
const CASES: [string, 'config' | 'probes' | 'rules', string, string][] = [
  ['http expect status quoted', 'probes', 'targets:\n  - id: web\n    checks:\n      - type: http\n        url: http://192.0.2.10/\n        expect: { status: "200" }\n', 'got the string "200"'],
  ['http expect status list entry out of range', 'probes', 'targets:\n  - id: web\n    checks:\n      - type: http\n        url: http://192.0.2.10/\n        expect: { status: [200, 999] }\n', 'at most 599, got number 999'],
  ['escalation next L4', 'config', 'escalation:\n  tiers:\n    L3: { next: L4 }\n', 'expected one of "L1", "L2", "L3" or null, got the string "L4"'],
  ['escalate_after neither duration nor null', 'config', 'escalation:\n  tiers:\n    L1: { escalate_after: 5 }\n', 'expected a string or null, got number 5'],
  ['close_after bad duration', 'config', 'incidents:\n  close_after: soon\n', 'expected a duration like'],
  ['sla ack bad', 'config', 'escalation:\n  severities:\n    major: { ack: [1] }\n', 'got a list'],
  ['store type unknown', 'config', 'store:\n  type: postgres\n', 'must be one of sqlite, mongodb'],
  ['listen port as text', 'config', 'listen:\n  port: "http"\n', 'expected a number, got the string "http"'],
  ['label value a mapping', 'probes', 'targets:\n  - id: web\n    labels: { room: { floor: 2 } }\n    checks: []\n', 'got a mapping'],
  ['target id with capitals', 'probes', 'targets:\n  - id: Web\n    checks: []\n', 'got "Web"'],
  ['depends_on a string', 'probes', 'targets:\n  - id: web\n    depends_on: switch\n    checks: []\n', 'expected a list, got the string "switch"'],
  ['a message a schema sets gets the value found', 'config', 'channels:\n  - { id: x, type: webhook, url: 5, secret: a-secret-of-sixteen-chars }\n', 'expected an http:// or https:// URL, got number 5'],
  ['sweep_interval too short', 'config', 'escalation:\n  sweep_interval: 10ms\n', 'got "10ms"'],
  ['channel type unknown', 'config', 'channels:\n  - id: x\n    type: pager\n', 'unknown type "pager"'],
  ['rule severity typo', 'rules', OK_RULES.replace('severity: minor', 'severity: minr'), 'got "minr"'],
  ['rule tier L4', 'rules', OK_RULES.replace('tier: L1', 'tier: L4'), 'got "L4"'],
  ['open_after text', 'rules', OK_RULES + '    open_after: twice\n', 'got the string "twice"'],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'incidentd-messages-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function messagesOf(name: string, kind: 'config' | 'probes' | 'rules', text: string): Promise<string[]> {
  const base = path.join(dir, name.replace(/\W+/g, '-'));
  await mkdir(path.join(base, 'probes'), { recursive: true });
  await mkdir(path.join(base, 'rules'), { recursive: true });
  await writeFile(path.join(base, 'incidentd.yaml'), kind === 'config' ? text : 'listen: { port: 19740 }\n');
  await writeFile(path.join(base, 'probes', 'p.yaml'), kind === 'probes' ? text : OK_PROBES);
  await writeFile(path.join(base, 'rules', 'r.yaml'), kind === 'rules' ? text : OK_RULES);
  try {
    await loadConfig({ config: path.join(base, 'incidentd.yaml'), probesDir: path.join(base, 'probes'), rulesDir: path.join(base, 'rules') }, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => i.message);
    throw err;
  }
  return [];
}

describe('config messages name what was expected and what was found', () => {
  it.each(CASES)('%s', async (name, kind, text, fragment) => {
    const messages = await messagesOf(name, kind, text);
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) {
      expect(m).not.toMatch(/invalid input/i);
      expect(m).not.toMatch(/^Invalid /);
    }
    expect(messages.join('\n')).toContain(fragment);
  });
});
