// Where a stored ticket reference opens in the helpdesk: the incident page links each ticket there.
import { describe, expect, it } from 'vitest';
import { jiraChannelSchema } from '../../src/notify/jira.js';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import { servicenowChannelSchema } from '../../src/notify/servicenow.js';
import { zammadChannelSchema } from '../../src/notify/zammad.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

const deps = { clock: new FakeClock(Date.UTC(2026, 2, 14, 9, 30)), logger: silentLogger() };

describe('ticket links', () => {
  it('Zammad: the ticket by its id, shown by its number', () => {
    const config: ChannelConfig = zammadChannelSchema.parse({ id: 'desk', type: 'zammad', url: 'https://desk.example.invalid/', token: 't', group: 'Users', customer: 'm@example.org' });
    expect(createChannel(config, deps).ticketLink?.('4711:31004')).toEqual({ display: '31004', url: 'https://desk.example.invalid/#ticket/zoom/4711' });
  });

  it('Jira: the request by its key', () => {
    const config: ChannelConfig = jiraChannelSchema.parse({
      id: 'jsm',
      type: 'jira',
      url: 'https://acme.example.invalid',
      email: 'ops@example.org',
      api_token: 'x',
      service_desk_id: 4,
      request_type_id: '25',
    });
    expect(createChannel(config, deps).ticketLink?.('10042:OPS-12')).toEqual({ display: 'OPS-12', url: 'https://acme.example.invalid/browse/OPS-12' });
  });

  it('ServiceNow: the incident record by its sys_id, shown by its number', () => {
    const config: ChannelConfig = servicenowChannelSchema.parse({ id: 'snow', type: 'servicenow', instance_url: 'https://acme.example.invalid', user: 'u', password: 'p', assignment_group: 'g' });
    expect(createChannel(config, deps).ticketLink?.('9d385017c611228701d22104cc95c371:INC0010002')).toEqual({
      display: 'INC0010002',
      url: 'https://acme.example.invalid/nav_to.do?uri=incident.do%3Fsys_id%3D9d385017c611228701d22104cc95c371',
    });
  });
});
