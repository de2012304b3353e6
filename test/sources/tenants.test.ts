// Alerts land in their source's tenant: two customers' sources naming the same host open two
// incidents, each in its own tenant, and each source's recovery resolves only its own.
import { afterEach, describe, expect, it } from 'vitest';
import { alertServer, source, type AlertServer } from './harness.js';

let s: AlertServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const ACME_TOKEN = 'acme-webhook-token-1234';
const GLOBEX_TOKEN = 'globex-webhook-token-5678';
const OWN_TOKEN = 'own-webhook-token-9012';

const disk = (status: string) => ({ name: 'DiskFull', target: 'fileserver', status, annotations: { summary: 'disk /var is 97% full' } });

describe('sources with a tenant', () => {
  it('the same host at two customers is two incidents, each in its source\'s tenant', async () => {
    s = await alertServer({
      sources: [
        source({ id: 'acme-hook', type: 'generic', tokens: [ACME_TOKEN], tenant: 'acme' }),
        source({ id: 'globex-hook', type: 'generic', tokens: [GLOBEX_TOKEN], tenant: 'globex' }),
        source({ id: 'own-hook', type: 'generic', tokens: [OWN_TOKEN] }),
      ],
    });
    for (const token of [ACME_TOKEN, GLOBEX_TOKEN, OWN_TOKEN]) {
      expect((await s.post('/api/v1/alerts', { alerts: [disk('firing')] }, { token })).status).toBe(200);
    }
    const open = await s.active();
    expect(open.map((i) => i.tenant).sort()).toEqual(['acme', 'default', 'globex']);
    expect(new Set(open.map((i) => i.fingerprint)).size).toBe(3);

    expect((await s.post('/api/v1/alerts', { alerts: [disk('resolved')] }, { token: ACME_TOKEN })).status).toBe(200);
    expect((await s.active()).map((i) => i.tenant).sort()).toEqual(['default', 'globex']);
  });

  it('an alert cannot move itself into another tenant: a label or target naming one changes nothing', async () => {
    s = await alertServer({
      sources: [
        source({ id: 'acme-hook', type: 'generic', tokens: [ACME_TOKEN], tenant: 'acme' }),
        source({ id: 'globex-hook', type: 'generic', tokens: [GLOBEX_TOKEN], tenant: 'globex' }),
      ],
    });
    const sneaky = { ...disk('firing'), labels: { tenant: 'globex' } };
    expect((await s.post('/api/v1/alerts', { alerts: [sneaky] }, { token: ACME_TOKEN })).status).toBe(200);
    expect((await s.active()).map((i) => i.tenant)).toEqual(['acme']);
  });
});
