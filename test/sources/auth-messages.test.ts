// The 401 answers name the kind of source a token belongs to in plain English (issue 13: "a
// alertmanager source").
import { describe, expect, it } from 'vitest';
import { authenticateSource } from '../../src/sources/auth.js';

describe('401 messages', () => {
  it('say "an alertmanager source" and "a generic source"', () => {
    const missing = authenticateSource(undefined, 'alertmanager', [], []);
    expect(missing).toMatchObject({ ok: false, status: 401 });
    expect(!missing.ok && missing.message).toContain('with a token of an alertmanager source');
    const invalid = authenticateSource('Bearer nope', 'alertmanager', [], []);
    expect(!invalid.ok && invalid.message).toContain('under the tokens of an alertmanager source');
    const generic = authenticateSource('Bearer nope', 'generic', [], []);
    expect(!generic.ok && generic.message).toContain('under the tokens of a generic source');
  });
});
