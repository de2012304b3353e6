import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { z } from 'zod';
import { didYouMean, interpolateString, parseYamlFile, positionOf, readYaml } from '../../src/config-core/yaml.js';
import { readYamlFast } from '../../src/config/yaml-fast.js';

const lines = (issues: { line: number; column: number; message: string }[]) => issues.map((i) => `${i.line}:${i.column}: ${i.message}`);

describe('parseYamlFile', () => {
  const schema = z.strictObject({
    name: z.string(),
    items: z.array(z.strictObject({ size: z.number().int() })).default([]),
  });

  it('returns the value and the document when the file is valid', () => {
    const r = parseYamlFile('f.yaml', 'name: ${WHO:-world}\nitems:\n  - size: 2\n', schema, {});
    expect(r.issues).toEqual([]);
    expect(r.value).toEqual({ name: 'world', items: [{ size: 2 }] });
  });

  it('reports all issues sorted by position, at keys for unknown keys and at values otherwise', () => {
    const r = parseYamlFile('f.yaml', 'items:\n  - size: big\n  - sise: 1\nnmae: x\n', schema, {});
    expect(r.value).toBeNull();
    expect(lines(r.issues)).toEqual([
      '1:1: missing required key "name"',
      '2:11: expected a number, got the string "big"',
      '3:5: missing required key "size"',
      '3:5: unknown key "sise" (did you mean "size"?)',
      '4:1: unknown key "nmae" (did you mean "name"?)',
    ]);
  });

  it('points at the key when a value is missing', () => {
    const r = parseYamlFile('f.yaml', 'name:\n', schema, {});
    expect(lines(r.issues)).toEqual(['1:1: expected a string, got nothing (null)']);
  });

  it('does not also report a type error where an env variable was missing', () => {
    const r = parseYamlFile('f.yaml', 'name: x\nitems:\n  - size: ${SIZE}\n', schema, {});
    expect(lines(r.issues)).toEqual(['3:11: environment variable SIZE is not set (set it, or give a default: ${SIZE:-value})']);
  });
});

describe('positionOf', () => {
  it('falls back to the nearest existing parent', () => {
    const src = readYaml('f.yaml', 'a:\n  b:\n    - x: 1\n', {});
    expect(positionOf(src, ['a', 'b', 0, 'x'])).toEqual({ line: 3, column: 10 });
    expect(positionOf(src, ['a', 'b', 0, 'x'], 'key')).toEqual({ line: 3, column: 7 });
    expect(positionOf(src, ['a', 'b', 3, 'y'])).toEqual({ line: 3, column: 5 });
    expect(positionOf(src, ['a', 'nope'])).toEqual({ line: 2, column: 3 });
  });
});

describe('interpolateString', () => {
  it('expands variables and defaults and reports bad references', () => {
    expect(interpolateString('${A}-${B:-b}-$${C}', { A: 'a' })).toEqual({ text: 'a-b-${C}', problems: [] });
    expect(interpolateString('${1X}', {}).problems).toEqual([
      '"${1X}" is not a valid environment variable reference (use ${NAME} or ${NAME:-default})',
    ]);
    expect(interpolateString('${OPEN', {}).problems).toEqual(['unterminated "${": close it with "}" or write "$${" for a literal "${"']);
  });
});

describe('didYouMean', () => {
  it('suggests close spellings, including swapped letters, and nothing for unrelated words', () => {
    expect(didYouMean('intervall', ['interval', 'timeout'])).toBe('interval');
    expect(didYouMean('prot', ['host', 'port'])).toBe('port');
    expect(didYouMean('certificate', ['host', 'port'])).toBeNull();
  });
});

describe('strings of a file that holds a character above U+00FF', () => {
  // v8.serialize tags a string by how V8 holds it: '"' one byte per character, 'c' two.
  const width = (s: string) => (v8.serialize(s)[2] === 0x22 ? 'one-byte' : 'two-byte');
  const text = '# Uptime Kuma… and the like\nname: printer offline on floor 3\nsite: Büro\narrow: L1 → L2\nlist: [a, "${WHO:-wörld}"]\nnested: { deep: [{ x: long value of a nested scalar }] }\n';

  for (const [how, read] of [
    ['the precise way', (t: string) => readYaml('f.yaml', t, {})],
    ['the fast way', (t: string) => readYamlFast('f.yaml', t, {})!],
  ] as const) {
    it(`keeps every value and holds those that fit one byte per character as one-byte strings (${how})`, () => {
      const data = read(text).data as { name: string; site: string; arrow: string; list: string[]; nested: { deep: { x: string }[] } };
      expect(data).toEqual({
        name: 'printer offline on floor 3',
        site: 'Büro',
        arrow: 'L1 → L2',
        list: ['a', 'wörld'],
        nested: { deep: [{ x: 'long value of a nested scalar' }] },
      });
      expect([data.name, data.site, data.list[0]!, data.list[1]!, data.nested.deep[0]!.x].map(width)).toEqual(Array(5).fill('one-byte'));
      expect(width(data.arrow)).toBe('two-byte');
    });
  }

  it('are two-byte as the parser hands them over (what the narrowing is for)', () => {
    const data = YAML.parse(text) as { name: string };
    expect(width(data.name)).toBe('two-byte');
  });
});
