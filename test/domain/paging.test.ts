// The list-order policy both stores follow: cursors per sort, the buckets a class-valued order
// reads from a cursor on, and search text taken literally.
import { describe, expect, it } from 'vitest';
import {
  bucketsFrom,
  decodeIncidentCursor,
  encodeIncidentCursor,
  escapeLike,
  escapeRegExp,
  INCIDENT_SORTS,
  readBuckets,
  sortOrder,
  type BucketSortKey,
  type SortOrder,
} from '../../src/domain/paging.js';
import { InvalidCursorError } from '../../src/shared/errors.js';

const bucketOrder = (sort: 'severity' | '-severity' | 'priority' | '-priority') => sortOrder(sort) as SortOrder & { key: BucketSortKey };

describe('incident cursors', () => {
  it('round-trip for every sort and are refused under another sort, naming both', () => {
    for (const sort of INCIDENT_SORTS) {
      const c = { sort, value: sort.endsWith('severity') ? 3 : sort.endsWith('priority') ? 4 : 1_767_225_600_000, seq: 42 };
      expect(decodeIncidentCursor(encodeIncidentCursor(c), sort)).toEqual(c);
    }
    const opened = encodeIncidentCursor({ sort: 'opened', value: 5, seq: 1 });
    expect(() => decodeIncidentCursor(opened, '-opened')).toThrow(InvalidCursorError);
    expect(() => decodeIncidentCursor(opened, '-opened')).toThrow(/was returned for sort=opened, not sort=-opened/);
  });

  it('refuses garbage and a bucket index out of range', () => {
    expect(() => decodeIncidentCursor('bm9wZQ', '-opened')).toThrow(InvalidCursorError);
    expect(() => decodeIncidentCursor(encodeIncidentCursor({ sort: 'severity', value: 4, seq: 1 }), 'severity')).toThrow(InvalidCursorError);
    expect(() => decodeIncidentCursor(Buffer.from('inc:bogus:1:1').toString('base64url'), '-opened')).toThrow(InvalidCursorError);
  });
});

describe('bucketsFrom', () => {
  it('reads every class in order without a cursor, highest first when descending', () => {
    expect(bucketsFrom(bucketOrder('-severity'), null).map((b) => b.value)).toEqual(['major', 'severe', 'medium', 'minor']);
    expect(bucketsFrom(bucketOrder('priority'), null).map((b) => b.value)).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);
  });

  it('continues in the cursor’s class after its sequence, then the following classes whole', () => {
    expect(bucketsFrom(bucketOrder('-severity'), { sort: '-severity', value: 2, seq: 17 })).toEqual([
      { value: 'severe', afterSeq: 17 },
      { value: 'medium', afterSeq: null },
      { value: 'minor', afterSeq: null },
    ]);
    expect(bucketsFrom(bucketOrder('priority'), { sort: 'priority', value: 3, seq: 9 })).toEqual([
      { value: 'P4', afterSeq: 9 },
      { value: 'P5', afterSeq: null },
    ]);
  });

  it('leaves out classes the filter on the same field excludes', () => {
    expect(bucketsFrom(bucketOrder('-priority'), null, ['P1', 'P4']).map((b) => b.value)).toEqual(['P4', 'P1']);
  });
});

describe('readBuckets', () => {
  it('asks each class only for what the page still lacks and stops once it has one row more than the page', async () => {
    const asked: [string, number][] = [];
    const rows = await readBuckets(bucketsFrom(bucketOrder('priority'), null), 5, async (b, n) => {
      asked.push([b.value, n]);
      return Array.from({ length: Math.min(n, 2) }, (_, i) => `${b.value}-${i}`);
    });
    expect(asked).toEqual([['P1', 6], ['P2', 4], ['P3', 2]]);
    expect(rows).toEqual(['P1-0', 'P1-1', 'P2-0', 'P2-1', 'P3-0', 'P3-1']);
  });
});

describe('search text is taken literally', () => {
  it('escapes LIKE wildcards and the escape character', () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
  });

  it('escapes every regex metacharacter', () => {
    const text = 'a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o';
    expect(new RegExp(escapeRegExp(text)).test(text)).toBe(true);
    expect(new RegExp(`^${escapeRegExp('a.c')}$`).test('abc')).toBe(false);
  });
});
