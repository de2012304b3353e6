import { describe, expect, it } from 'vitest';
import { FiringSeries } from '../../src/incidents/firing.js';
import { newState } from '../../src/incidents/hysteresis.js';

describe('FiringSeries', () => {
  it('agrees with a plain set through thousands of joins and leaves, indexed or not', () => {
    const firing = new FiringSeries();
    const st = newState('fp', 't');
    const expected = new Set<string>();
    // A fixed pseudo-random walk (LCG), so a failure repeats: the list grows past the index
    // threshold, shrinks below it and grows again.
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 20_000; step++) {
      const size = step % 4000 < 2000 ? 200 : 10;
      const key = `s${next() % size}`;
      const join = next() % 3 !== 0;
      if (join) {
        expect(firing.has(st, key)).toBe(expected.has(key));
        if (!expected.has(key)) {
          firing.add(st, key);
          expected.add(key);
        }
      } else {
        expect(firing.remove(st, key)).toBe(expected.delete(key));
      }
      expect(st.firing.length).toBe(expected.size);
    }
    expect([...st.firing].sort()).toEqual([...expected].sort());
  });

  it('indexes a long list loaded from the store', () => {
    const firing = new FiringSeries();
    const st = { ...newState('fp', 't'), firing: Array.from({ length: 100 }, (_, i) => `s${i}`) };
    firing.loaded(st);
    expect(firing.has(st, 's99')).toBe(true);
    expect(firing.remove(st, 's0')).toBe(true);
    expect(firing.remove(st, 's0')).toBe(false);
    expect(firing.has(st, 's0')).toBe(false);
    expect(st.firing).toHaveLength(99);
    expect(new Set(st.firing).size).toBe(99);
  });
});
