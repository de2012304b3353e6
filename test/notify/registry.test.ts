import { describe, expect, it } from 'vitest';
import { channelConfigSchema, channelKinds, createChannel, UnknownChannelTypeError, type ChannelConfig } from '../../src/notify/registry.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

const deps = { clock: new FakeClock(), logger: silentLogger() };

describe('channel registry', () => {
  it('knows every channel kind and builds each from its config', async () => {
    expect([...channelKinds.keys()]).toEqual(['email', 'webhook', 'servicenow', 'zammad', 'jira', 'slack', 'teams']);
    const hook = createChannel(
      channelConfigSchema.parse({ id: 'ops', type: 'webhook', url: 'https://hooks.example.invalid/x', secret: 'sixteen-chars-ok' }),
      deps,
    );
    expect([hook.id, hook.type]).toEqual(['ops', 'webhook']);
    const mail = createChannel(
      channelConfigSchema.parse({
        id: 'desk', type: 'email', smtp: { host: 'smtp.example.invalid' }, from: 'a@example.org', to: ['b@example.org'], domain: 'example.org',
      }),
      deps,
    );
    expect([mail.id, mail.type]).toEqual(['desk', 'email']);
    await mail.close?.();
  });

  it('tells which types exist when a config names another', () => {
    expect(channelConfigSchema.safeParse({ id: 'x', type: 'pager' }).success).toBe(false);
    expect(() => createChannel({ id: 'x', type: 'pager' } as unknown as ChannelConfig, deps)).toThrow(UnknownChannelTypeError);
    expect(() => createChannel({ id: 'x', type: 'pager' } as unknown as ChannelConfig, deps)).toThrow(/known types: email, webhook, servicenow, zammad, jira, slack, teams/);
  });
});
