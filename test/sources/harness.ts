// The alert endpoints over real HTTP on loopback: a bare Fastify app with the alert routes, a real
// IncidentManager over a real SQLite file in a temp dir, and real rules from compileRules.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { alertRoutes } from '../../src/api/alerts.js';
import type { ApiToken, IncidentPolicy } from '../../src/config-core/types.js';
import type { RuleConfig } from '../../src/rules/config.js';
import type { SourceConfig } from '../../src/sources/config.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';
import { active, harness, rule, type Harness } from '../incidents/harness.js';

export const API_TOKEN = 'api-secret-token';
export const GENERIC_TOKEN = 'webhook-secret-token';
export const AM_TOKEN = 'alertmanager-secret-token';
export const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';

export function source(partial: Partial<SourceConfig> & Pick<SourceConfig, 'id' | 'type'>): SourceConfig {
  return {
    tokens: [],
    routingKeys: [],
    allowSubscribers: true,
    labels: {},
    tenant: 'default',
    target: { fromLabel: 'instance', kind: partial.type === 'pagerduty' ? 'service' : 'server', siteLabel: null },
    ...partial,
  };
}

export const SOURCES: SourceConfig[] = [
  source({ id: 'webhook', type: 'generic', tokens: [GENERIC_TOKEN], labels: { team: 'ops' } }),
  source({
    id: 'prom',
    type: 'alertmanager',
    tokens: [AM_TOKEN],
    labels: { origin: 'prometheus' },
    target: { fromLabel: 'instance', kind: 'server', siteLabel: 'dc' },
  }),
  source({ id: 'grafana', type: 'pagerduty', routingKeys: [ROUTING_KEY] }),
];

/** Rules that classify alerts by where they came from and their labels, like probe failures. */
export const RULES: RuleConfig[] = [
  rule({
    id: 'critical-alert',
    when: 'labels.severity == "critical"',
    classify: { category: 'service.availability', severity: 'major', impact: 'organisation', tier: 'L2' },
    title: '{{check.name}} on {{target.name}}',
  }),
  rule({
    id: 'pagerduty-alert',
    when: 'source == "grafana"',
    classify: { category: 'service.alert', severity: 'medium', impact: 'single-user', tier: 'L1' },
    title: '{{message}}',
  }),
];

export interface AlertServer {
  url: string;
  h: Harness;
  app: FastifyInstance;
  post(path: string, body: unknown, opts?: { token?: string | null; contentType?: string; raw?: string | undefined }): Promise<{ status: number; headers: Headers; body: any }>;
  active(): ReturnType<typeof active>;
  all(): Promise<Awaited<ReturnType<IncidentStore['list']>>['items']>;
  close(): Promise<void>;
}

export async function alertServer(
  opts: {
    sources?: SourceConfig[];
    apiTokens?: ApiToken[];
    maxQueue?: number;
    maxBodyBytes?: number;
    wrapStore?: (s: IncidentStore) => IncidentStore;
    policy?: IncidentPolicy;
    /** Default: RULES. */
    rules?: RuleConfig[];
  } = {},
): Promise<AlertServer> {
  const h = await harness({ rules: opts.rules ?? RULES, wrapStore: opts.wrapStore, policy: opts.policy });
  const app = Fastify({ logger: false });
  await app.register(
    alertRoutes({
      ingest: h.manager,
      sources: () => opts.sources ?? SOURCES,
      apiTokens: () => opts.apiTokens ?? [{ name: 'admin', token: API_TOKEN }],
      limits: () => ({ maxQueue: opts.maxQueue ?? 10_000, maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024, journalDir: null }),
      clock: new SystemClock(),
      logger: silentLogger(),
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    h,
    app,
    async post(path, body, o = {}) {
      const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      const res = await fetch(url + path, { method: 'POST', headers, body: o.raw ?? JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON; keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    active: () => active(h.store),
    all: async () => (await h.store.list({}, 500)).items,
    async close() {
      await app.close();
      await h.close();
    },
  };
}
