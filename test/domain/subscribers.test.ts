import { describe, expect, it } from 'vitest';
import { addressLengthProblem, planSubscribers, subscriberLimitNote } from '../../src/domain/subscribers.js';

describe('planSubscribers', () => {
  it('adds new addresses in order while there is room and says when the list fills', () => {
    expect(planSubscribers(['a'], ['b', 'a', 'b', 'c'], 5)).toEqual({ added: ['b', 'c'], refused: [], filled: false });
    expect(planSubscribers(['a'], ['b', 'c', 'd'], 3)).toEqual({ added: ['b', 'c'], refused: ['d'], filled: true });
    expect(planSubscribers(['a', 'b'], ['c'], 3)).toEqual({ added: ['c'], refused: [], filled: true });
  });

  it('refuses every new address of a full list without saying again that it is full', () => {
    expect(planSubscribers(['a', 'b'], ['a', 'c', 'd'], 2)).toEqual({ added: [], refused: ['c', 'd'], filled: false });
    expect(planSubscribers([], ['a'], 0)).toEqual({ added: [], refused: ['a'], filled: false });
  });
});

describe('addressLengthProblem', () => {
  it('holds addresses to RFC 5321 lengths', () => {
    expect(addressLengthProblem(`${'a'.repeat(64)}@example.org`)).toBeNull();
    expect(addressLengthProblem(`${'a'.repeat(65)}@example.org`)).toMatch(/at most 64/);
    expect(addressLengthProblem(`a@${'b'.repeat(253)}`)).toBe('must be at most 254 characters (RFC 5321), got 255');
    expect(addressLengthProblem(`a@${'b'.repeat(252)}`)).toBeNull();
  });

  it('notes how many were left out', () => {
    expect(subscriberLimitNote(50, 0)).toBe('the incident keeps at most 50 subscribers (incidents.max_subscribers); further addresses are not added');
    expect(subscriberLimitNote(50, 1)).toMatch(/; 1 more address was not added;/);
  });
});
