import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/domain/fingerprint.js';

describe('fingerprint', () => {
  // Fingerprints are stored with incidents: a change of these values would split every open
  // problem into a new incident after an upgrade.
  it('keeps the values stored by earlier versions', () => {
    expect(fingerprint([['target.id', 'srv-01'], ['check.name', 'ping'], ['rule.id', 'server-down']])).toBe('76eb31696df7c5f1e4ee02172610de31');
    expect(fingerprint([])).toBe('e3b0c44298fc1c149afbf4c8996fb924');
    expect(
      fingerprint([['target.id', 'Zürich-файл-服务器-😀'], ['labels.x', '\uD800'], ['labels.y', '\uDC00tail'], ['values.n', '']]),
    ).toBe('c46989c17033719ba524cb8e3ab4f59d');
  });

  it('tells apart values that only differ in where one ends and the next begins', () => {
    expect(fingerprint([['labels.a', 'x1'], ['labels.b', '2']])).toBe('810401eb35a3f2d45a8d0425954edb6b');
    expect(fingerprint([['labels.a', 'x'], ['labels.b', '12']])).toBe('e4587ef98c080583afad265c6af0f21e');
  });

  it('tells apart the same value under different field names', () => {
    expect(fingerprint([['target.id', 'a']])).not.toBe(fingerprint([['check.name', 'a']]));
  });
});
