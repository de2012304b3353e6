import { describe, expect, it } from 'vitest';
import {
  compileSilence,
  expiredAt,
  parseMatcher,
  SilenceExpiredError,
  silencedBy,
  silenceState,
  subjectOf,
  type Matcher,
  type Silence,
  type SilenceSubject,
} from '../../src/domain/silence.js';

const T0 = Date.UTC(2026, 0, 1, 8);
const HOUR = 3_600_000;

function silence(matchers: Matcher[], more: Partial<Silence> = {}): Silence {
  return { id: 's', tenant: 'default', matchers, startsAt: T0, endsAt: T0 + HOUR, createdBy: 'ops', comment: 'why', createdAt: T0, updatedAt: T0, ...more };
}

const subject: SilenceSubject = {
  tenant: 'default',
  target: 'ap-1',
  check: 'DiskFull',
  kind: 'wifi-ap',
  source: 'alertmanager',
  category: 'server.disk',
  severity: 'severe',
  site: 'hq',
  labels: { alertname: 'DiskFull', team: 'ops' },
};

const matches = (text: string, s: SilenceSubject = subject) => compileSilence(silence([parseMatcher(text)])).matches(s);

describe('tenants', () => {
  it('a silence holds back only its own tenant\'s incidents, whatever its matchers say', () => {
    const c = compileSilence(silence([{ name: 'target', op: '=', value: 'ap-1' }], { tenant: 'acme' }));
    expect(c.matches({ ...subject, tenant: 'acme' })).toBe(true);
    expect(c.matches({ ...subject, tenant: 'globex' })).toBe(false);
  });
});

describe('matchers', () => {
  it('parses the four operators, the longest first, and quoted values', () => {
    expect(parseMatcher('target=ap-1')).toEqual({ name: 'target', op: '=', value: 'ap-1' });
    expect(parseMatcher('target!=ap-1')).toEqual({ name: 'target', op: '!=', value: 'ap-1' });
    expect(parseMatcher('labels.alertname=~Disk.*')).toEqual({ name: 'labels.alertname', op: '=~', value: 'Disk.*' });
    expect(parseMatcher(' site !~ "lab|test" ')).toEqual({ name: 'site', op: '!~', value: 'lab|test' });
    expect(parseMatcher('labels.query=a=b')).toEqual({ name: 'labels.query', op: '=', value: 'a=b' });
    expect(() => parseMatcher('ap-1')).toThrow(/is not a matcher; write name=value/);
  });

  it('anchors regular expressions at both ends, as Alertmanager does', () => {
    expect(matches('labels.alertname=~Disk.*')).toBe(true);
    expect(matches('labels.alertname=~Disk')).toBe(false);
    expect(matches('labels.alertname=~isk.*')).toBe(false);
    expect(matches('labels.alertname=~Disk.*|Inode.*')).toBe(true);
    expect(matches('labels.alertname!~Disk.*')).toBe(false);
  });

  it('reads every field of the signal, and a missing label as empty', () => {
    for (const m of ['target=ap-1', 'check=DiskFull', 'kind=wifi-ap', 'source=alertmanager', 'category=server.disk', 'severity=severe', 'site=hq', 'labels.team=ops']) {
      expect(matches(m), m).toBe(true);
    }
    expect(matches('labels.nope=')).toBe(true);
    expect(matches('labels.nope!=x')).toBe(true);
    expect(matches('labels.nope=x')).toBe(false);
  });

  it('takes target labels under the signal labels', () => {
    const s = subjectOf({
      target: { id: 'ap-1', kind: 'wifi-ap', site: 'hq', labels: { floor: '3', team: 'net' } },
      check: { name: 'icmp' },
      source: 'probe',
      category: 'network',
      severity: 'major',
      labels: { team: 'ops' },
    });
    expect(s.labels).toEqual({ floor: '3', team: 'ops' });
  });
});

describe('silence states and hits', () => {
  it('is pending before startsAt, active until endsAt (exclusive), expired from then', () => {
    const s = silence([]);
    expect(silenceState(s, T0 - 1)).toBe('pending');
    expect(silenceState(s, T0)).toBe('active');
    expect(silenceState(s, T0 + HOUR - 1)).toBe('active');
    expect(silenceState(s, T0 + HOUR)).toBe('expired');
  });

  it('names every active silence that matches, held until the latest end', () => {
    const list = [
      compileSilence(silence([parseMatcher('target=ap-1')], { id: 'a', comment: 'swap' })),
      compileSilence(silence([parseMatcher('site=hq')], { id: 'b', comment: 'move', endsAt: T0 + 3 * HOUR })),
      compileSilence(silence([parseMatcher('site=hq')], { id: 'later', startsAt: T0 + HOUR, endsAt: T0 + 5 * HOUR })),
      compileSilence(silence([parseMatcher('target=ap-2')], { id: 'other' })),
    ];
    expect(silencedBy(list, subject, T0 + 1)).toEqual({ ids: ['a', 'b'], text: 'silence a (swap), silence b (move)', until: T0 + 3 * HOUR });
    expect(silencedBy(list, { ...subject, site: 'branch' }, T0 + 1)?.ids).toEqual(['a']);
    expect(silencedBy(list, { ...subject, target: 'ap-9', site: 'branch' }, T0 + 1)).toBeNull();
  });

  it('expires at the given time; a pending one never starts; an ended one cannot expire again', () => {
    expect(expiredAt(silence([]), T0 + 1)).toMatchObject({ startsAt: T0, endsAt: T0 + 1, updatedAt: T0 + 1 });
    expect(expiredAt(silence([]), T0 - 5)).toMatchObject({ startsAt: T0 - 5, endsAt: T0 - 5 });
    expect(() => expiredAt(silence([]), T0 + HOUR)).toThrow(SilenceExpiredError);
  });
});
