import { describe, expect, it } from 'vitest';
import { signalFromInput, signalInputSchema } from '../../src/rules/signal-input.js';

describe('signal input', () => {
  it('fills every default from a minimal signal', () => {
    const input = signalInputSchema.parse({ target: { id: 'ap-3' }, check: { name: 'ping' } });
    expect(signalFromInput(input)).toEqual({
      source: 'probe',
      target: { id: 'ap-3', kind: 'server', name: 'ap-3', site: '', labels: {}, dependsOn: [] },
      check: { name: 'ping', type: 'ping' },
      status: 'fail',
      message: '',
      values: {},
      labels: {},
      annotations: {},
      at: 0,
    });
  });

  it('keeps what is given and accepts an ISO date', () => {
    const input = signalInputSchema.parse({
      source: 'alertmanager',
      target: { id: 'ap-3', kind: 'wifi-ap', name: 'AP 3', site: 'hq', labels: { floor: '2' }, depends_on: ['sw-1'] },
      check: { name: 'HostDown', type: 'alertmanager' },
      status: 'ok',
      message: 'resolved',
      values: { clients: 4, ssid: 'corp', up: true },
      labels: { alertname: 'HostDown' },
      annotations: { summary: 'AP down' },
      at: '2026-01-02T03:04:05Z',
    });
    const s = signalFromInput(input);
    expect(s.target).toEqual({ id: 'ap-3', kind: 'wifi-ap', name: 'AP 3', site: 'hq', labels: { floor: '2' }, dependsOn: ['sw-1'] });
    expect(s.at).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(s.status).toBe('ok');
    expect(s.values).toEqual({ clients: 4, ssid: 'corp', up: true });
    expect(signalFromInput(signalInputSchema.parse({ target: { id: 'x', dependsOn: ['y'] }, check: { name: 'c' }, at: 42 })))
      .toMatchObject({ at: 42, target: { dependsOn: ['y'] } });
  });

  it('rejects unknown keys, so a misspelt field is not silently ignored', () => {
    const r = signalInputSchema.safeParse({ target: { id: 'x', knd: 'printer' }, check: { name: 'c' } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('knd');
    expect(signalInputSchema.safeParse({ target: { id: 'x' }, check: { name: 'c' }, severity: 'major' }).success).toBe(false);
  });

  it('rejects a missing target id, a bad status, a bad date and both spellings of depends_on', () => {
    expect(signalInputSchema.safeParse({ target: {}, check: { name: 'c' } }).success).toBe(false);
    expect(signalInputSchema.safeParse({ target: { id: 'x' }, check: { name: 'c' }, status: 'down' }).success).toBe(false);
    expect(signalInputSchema.safeParse({ target: { id: 'x' }, check: { name: 'c' }, at: 'yesterday' }).success).toBe(false);
    expect(
      signalInputSchema.safeParse({ target: { id: 'x', dependsOn: [], depends_on: [] }, check: { name: 'c' } }).success,
    ).toBe(false);
  });
});
