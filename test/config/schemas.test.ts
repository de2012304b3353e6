import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildJsonSchemas, jsonSchemaText } from '../../src/config/schemas.js';
import { probeKinds } from '../../src/probe-kinds/registry.js';
import { REPO } from './helpers.js';

const DIR = path.join(REPO, 'config/schemas');

describe('JSON Schemas for editors', () => {
  it('the committed files equal what `npm run schemas` generates now', () => {
    const generated = buildJsonSchemas();
    expect(readdirSync(DIR).filter((f) => f.endsWith('.schema.json')).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, schema] of Object.entries(generated)) {
      expect(readFileSync(path.join(DIR, name), 'utf8'), `${name} is stale: run npm run schemas`).toBe(jsonSchemaText(schema));
    }
  });

  it('the probes schema offers every registered probe kind, with its fields and descriptions', () => {
    const schema = buildJsonSchemas()['probes.schema.json'] as {
      properties: { targets: { items: { properties: { checks: { items: { oneOf: Array<{ properties: Record<string, { const?: string; description?: string }> }> } } } } } };
    };
    const options = schema.properties.targets.items.properties.checks.items.oneOf;
    expect(options.map((o) => o.properties.type!.const).sort()).toEqual([...probeKinds.keys()].sort());
    const tcp = options.find((o) => o.properties.type!.const === 'tcp')!;
    expect(Object.keys(tcp.properties)).toEqual(expect.arrayContaining(['name', 'interval', 'timeout', 'host', 'port']));
    expect(tcp.properties.port!.description).toBeTruthy();
  });

  it('durations are strings with a pattern', () => {
    const schema = buildJsonSchemas()['incidentd.schema.json'] as {
      properties: { incidents: { properties: { reopen_window: { type: string; pattern: string } } } };
    };
    const d = schema.properties.incidents.properties.reopen_window;
    expect(d.type).toBe('string');
    expect(new RegExp(d.pattern).test('1h30m')).toBe(true);
    expect(new RegExp(d.pattern).test('90 minutes')).toBe(false);
  });
});
