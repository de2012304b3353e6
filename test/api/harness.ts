// Starts the real API on 127.0.0.1:0 over a real store, for tests that talk to it with fetch.
import type { FastifyInstance } from 'fastify';
import { createMetrics, type Metrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import type { ApiToken } from '../../src/config-core/types.js';
import { priorityOf, type Impact, type Severity } from '../../src/domain/classification.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import type { Incident } from '../../src/domain/incident.js';
import type { IncidentCommands } from '../../src/incidents/types.js';
import { PersonActions } from '../../src/incidents/actions.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';

export const OPS_TOKEN: ApiToken = { name: 'ops-team', token: 'tok-ops-7f3a9c1e5b' };
export const HELPDESK_TOKEN: ApiToken = { name: 'helpdesk', token: 'tok-helpdesk-2d8e4f' };

export interface Harness {
  base: string;
  app: FastifyInstance;
  store: IncidentStore;
  clock: FakeClock;
  metrics: Metrics;
  /** Replace to change the tokens the API accepts (as a config reload would). */
  tokens: ApiToken[];
  /** Replace to change what /readyz reports. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** Fetch with the ops token unless headers say otherwise. */
  call(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Commands as the manager would run them: straight to the store, time from the clock; the people's
 * decisions (escalate, severity, reopen) through the same PersonActions, without an escalation policy.
 */
export function storeCommands(store: IncidentStore, clock: FakeClock): IncidentCommands {
  const actions = new PersonActions({ store, clock, logger: silentLogger(), escalation: () => null });
  return {
    escalate: (n, tier, actor, reason) => actions.escalate(n, tier, actor, reason),
    reclassify: (n, to, actor, reason) => actions.reclassify(n, to, actor, reason),
    reopen: (n, actor, reason) => actions.reopen(n, actor, reason),
    acknowledge: (n, actor, msg) => store.acknowledge(n, actor, msg, clock.now()),
    resolve: (n, actor, msg) => store.resolve(n, actor, msg, clock.now()),
    comment: (n, actor, text) => store.comment(n, actor, text, clock.now()),
    subscribe: (n, address, actor) => store.subscribe(n, address, actor, clock.now()),
  };
}

/** `configure` runs before the server listens: a test adds its hooks there (a test authenticator). */
export async function startApi(
  store: IncidentStore,
  configure?: (app: FastifyInstance) => void,
  more: Partial<Pick<Parameters<typeof buildApi>[0], 'checks' | 'rules' | 'checkContext' | 'reportCalendar' | 'reportTenants'>> = {},
): Promise<Harness> {
  const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
  const metrics = createMetrics({ countActive: () => store.countActive() });
  const h = {
    store,
    clock,
    metrics,
    tokens: [OPS_TOKEN, HELPDESK_TOKEN],
    ready: async (): ReturnType<Harness['ready']> => ({ ready: true, checks: { store: 'ok' } }),
  } as Harness;
  const app = buildApi({
    store,
    commands: storeCommands(store, clock),
    tokens: () => h.tokens,
    ready: () => h.ready(),
    metrics,
    logger: silentLogger(),
    clock,
    ...more,
  });
  configure?.(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  h.app = app;
  h.base = address;
  h.call = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${OPS_TOKEN.token}`);
    return fetch(`${address}${path}`, { ...init, headers });
  };
  h.close = async () => {
    await app.close();
    await store.close();
  };
  return h;
}

export interface SeedSpec {
  targetId: string;
  site?: string;
  category?: string;
  severity?: Severity;
  impact?: Impact;
  check?: string;
  message?: string;
  /** The incident's tenant; absent: the default tenant. */
  tenant?: string;
}

/** Opens one incident through store.commit, as the manager does, and returns its number. */
export async function seed(store: IncidentStore, clock: FakeClock, spec: SeedSpec): Promise<string> {
  const severity = spec.severity ?? 'medium';
  const impact = spec.impact ?? 'site';
  const check = spec.check ?? 'ping';
  const [result] = await store.commit([
    {
      kind: 'fail',
      at: clock.now(),
      count: 1,
      reopenWindowMs: 3_600_000,
      draft: {
        fingerprint: fingerprint([
          ...(spec.tenant === undefined ? [] : [['tenant', spec.tenant] as const]),
          ['target.id', spec.targetId],
          ['check.name', check],
        ]),
        ...(spec.tenant === undefined ? {} : { tenant: spec.tenant }),
        classification: {
          category: spec.category ?? 'network',
          severity,
          impact,
          tier: 'L1',
          priority: priorityOf(impact, severity),
        },
        title: `${spec.targetId} ${check} failing`,
        description: `The ${check} check of ${spec.targetId} fails.`,
        runbook: 'Check the power and the uplink.',
        ruleId: 'device-down',
        source: 'probe',
        target: {
          id: spec.targetId,
          kind: 'wifi-ap',
          name: `AP ${spec.targetId}`,
          site: spec.site ?? 'hq',
          labels: { floor: '2' },
        },
        check: { name: check, type: 'icmp' },
        labels: { team: 'network' },
        message: spec.message ?? '100% packet loss',
      },
    },
  ]);
  if (!result || result.kind !== 'fail') throw new Error('seed: commit returned no fail result');
  return result.number;
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export type ApiIncidentJson = Omit<Incident, 'firstSeen' | 'lastSeen' | 'timeline'> & {
  firstSeen: string;
  lastSeen: string;
  timeline?: { at: string; actor: string; action: string; message: string }[];
};
