// API tokens with roles and tenants in config/incidentd.yaml: a config written before roles keeps
// working (its tokens act as write tokens for all tenants, said once at start), and a role that does
// not exist is refused with its position and the role meant.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenPrincipal } from '../../src/api/auth.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { loadConfig } from '../../src/config/load.js';
import type { DaemonConfig } from '../../src/config/types.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';
import type { Logger } from '../../src/shared/logger.js';
import { makeStore } from './store.js';
import { seed, storeCommands } from './harness.js';
import { FakeClock } from '../../src/shared/clock.js';

const OK_PROBES = 'targets: []\n';
const OK_RULES = 'rules: []\n';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'incidentd-token-roles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loads a daemon config file written as `text`, as `incidentd run` does. */
async function load(name: string, text: string): Promise<DaemonConfig> {
  const base = path.join(dir, name);
  await mkdir(path.join(base, 'probes'), { recursive: true });
  await mkdir(path.join(base, 'rules'), { recursive: true });
  await writeFile(path.join(base, 'incidentd.yaml'), text);
  await writeFile(path.join(base, 'probes', 'p.yaml'), OK_PROBES);
  await writeFile(path.join(base, 'rules', 'r.yaml'), OK_RULES);
  const loaded = await loadConfig({ config: path.join(base, 'incidentd.yaml'), probesDir: path.join(base, 'probes'), rulesDir: path.join(base, 'rules') }, {});
  return loaded.daemon;
}

async function issuesOf(name: string, text: string): Promise<string[]> {
  try {
    await load(name, text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => formatIssue({ ...i, file: path.basename(i.file) }));
    throw err;
  }
  return [];
}

function recorder(): { logger: Logger; infos: { obj: object; msg: string }[] } {
  const infos: { obj: object; msg: string }[] = [];
  const logger: Logger = {
    info: (obj, msg) => infos.push({ obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : (msg ?? '') }),
    warn: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  return { logger, infos };
}

const OLD_CONFIG = `tenants:
  - { id: acme, name: ACME Corp }
api:
  tokens:
    - name: helpdesk
      token: tok-helpdesk-61be0c2a9f
    - name: dashboards
      token: tok-dashboards-3e7d11
      role: read
      tenants: [acme]
`;

describe('api.tokens roles', () => {
  it('a token without a role acts as write for all tenants; the start-up note names it once, not per request', async () => {
    const config = await load('old', OLD_CONFIG);
    const [helpdesk, dashboards] = config.api.tokens;
    expect(tokenPrincipal(helpdesk!)).toEqual({ kind: 'token', id: 'helpdesk', name: 'helpdesk', roles: ['write'], tenants: { all: true } });
    expect(tokenPrincipal(dashboards!)).toMatchObject({ roles: ['read'], tenants: { all: false, tenants: ['acme'] } });

    const store = await makeStore();
    const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
    const { logger, infos } = recorder();
    const app = buildApi({
      store,
      commands: storeCommands(store, clock),
      tokens: () => config.api.tokens,
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger,
      clock,
    });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const number = await seed(store, clock, { targetId: 'ap-lobby' });
      const as = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
      // Write: reads and acts on incidents, as every token did before roles.
      expect((await fetch(`${base}/api/v1/incidents`, { headers: as(helpdesk!.token) })).status).toBe(200);
      expect((await fetch(`${base}/api/v1/incidents/${number}/ack`, { method: 'POST', headers: as(helpdesk!.token), body: '{}' })).status).toBe(200);
      expect((await fetch(`${base}/api/v1/incidents/${number}/comments`, { method: 'POST', headers: as(helpdesk!.token), body: '{"text":"on it"}' })).status).toBe(201);
      // Its role given, the read token only reads.
      expect((await fetch(`${base}/api/v1/incidents/${number}/resolve`, { method: 'POST', headers: as(dashboards!.token), body: '{}' })).status).toBe(403);
      expect((await store.get(number))?.acknowledgedBy).toBe('helpdesk');

      const notes = infos.filter((i) => /no role/.test(i.msg));
      expect(notes).toHaveLength(1);
      expect(notes[0]!.msg).toBe(
        'API token "helpdesk" names no role and acts as write (reads, incident actions, silences) as before roles existed; set api.tokens[].role to read, ingest, write or admin to choose',
      );
      expect(notes[0]!.obj).toEqual({ tokens: ['helpdesk'] });
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('says nothing when every token has a role', async () => {
    const config = await load('all-roles', 'api:\n  tokens:\n    - { name: ci, token: tok-ci-0a9b8c7d6e, role: admin, tenants: "*" }\n');
    const { logger, infos } = recorder();
    const store = await makeStore();
    const app = buildApi({
      store,
      commands: storeCommands(store, new FakeClock(0)),
      tokens: () => config.api.tokens,
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger,
      clock: new FakeClock(0),
    });
    await app.ready();
    expect(infos.filter((i) => /no role/.test(i.msg))).toEqual([]);
    expect(tokenPrincipal(config.api.tokens[0]!).tenants).toEqual({ all: true });
    await app.close();
    await store.close();
  });

  it('refuses a role that does not exist with its position and the role meant', async () => {
    const issues = await issuesOf('bad-role', 'api:\n  tokens:\n    - name: ci\n      token: tok-ci-0a9b8c7d6e\n      role: writer\n');
    expect(issues).toEqual(['incidentd.yaml:5:13: must be one of "read", "ingest", "write", "admin", got "writer" (did you mean "write"?)']);
  });

  it('refuses an empty tenant list and a tenants value that is neither a list nor "*"', async () => {
    const empty = await issuesOf('no-tenants', 'api:\n  tokens:\n    - { name: ci, token: tok-ci-0a9b8c7d6e, tenants: [] }\n');
    expect(empty.join('\n')).toMatch(/^incidentd\.yaml:3:\d+: .*give at least one tenant id, or "\*" for all/);
    const word = await issuesOf('tenants-word', 'api:\n  tokens:\n    - { name: ci, token: tok-ci-0a9b8c7d6e, tenants: all }\n');
    expect(word).toHaveLength(1);
    expect(word[0]).toMatch(/^incidentd\.yaml:3:\d+: /);
  });
});
