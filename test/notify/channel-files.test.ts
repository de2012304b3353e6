// Files a channel names are relative to the config file. Each channel kind resolves its own files
// (the loader holds no list of channel types), so a kind with a file key must say how.
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { channelConfigSchema, channelKinds, resolveChannelFiles } from '../../src/notify/registry.js';

/** Paths of the keys of a JSON Schema that name a file or folder (`ca_file`, `templates_dir`…). */
function fileKeys(schema: unknown, at: string[] = []): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const props = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  return Object.entries(props).flatMap(([key, sub]) => [
    ...(/_(file|dir)$/.test(key) ? [[...at, key].join('.')] : []),
    ...fileKeys(sub, [...at, key]),
  ]);
}

describe('channel files', () => {
  it('every channel kind with a file key resolves its files', () => {
    const withFiles = [...channelKinds.values()].filter((k) => fileKeys(z.toJSONSchema(k.schema, { io: 'input', unrepresentable: 'any' })).length > 0);
    expect(withFiles.map((k) => k.type)).toEqual(['email', 'webhook', 'servicenow', 'zammad', 'jira', 'slack', 'teams']);
    for (const kind of withFiles) expect(typeof kind.resolveFiles, kind.type).toBe('function');
  });

  it('makes relative files absolute against the given folder and leaves absent ones absent', () => {
    const dir = '/etc/incidentd';
    const resolve = (file: string) => path.resolve(dir, file);
    const mail = channelConfigSchema.parse({
      id: 'desk', type: 'email', smtp: { host: 'smtp.example.invalid', ca_file: 'ca.pem' }, from: 'a@example.org', to: ['b@example.org'],
      domain: 'example.org', templates_dir: 'mail',
    });
    const resolved = resolveChannelFiles(mail, resolve);
    expect(resolved.type === 'email' && [resolved.templates_dir, resolved.smtp.ca_file]).toEqual(['/etc/incidentd/mail', '/etc/incidentd/ca.pem']);

    const hook = channelConfigSchema.parse({ id: 'ops', type: 'webhook', url: 'https://hooks.example.invalid/x', secret: 'sixteen-chars-ok', ca_file: '/abs/ca.pem' });
    expect(resolveChannelFiles(hook, resolve)).toMatchObject({ ca_file: '/abs/ca.pem' });
    const plain = channelConfigSchema.parse({ id: 'ops', type: 'webhook', url: 'https://hooks.example.invalid/x', secret: 'sixteen-chars-ok' });
    expect(resolveChannelFiles(plain, resolve)).toEqual(plain);
  });
});
