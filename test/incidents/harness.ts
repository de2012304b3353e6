// A real SQLite store in a temp dir, the real rules compiler, and a manager over them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EscalationPolicy, IncidentPolicy } from '../../src/config-core/types.js';
import type { RuleConfig } from '../../src/rules/config.js';
import { defaultDaemonConfig } from '../../src/config/load.js';
import { escalationContext, type EscalationContext } from '../../src/incidents/escalation.js';
import type { Signal, TargetRef } from '../../src/domain/signal.js';
import { IncidentManager, type ManagerHooks } from '../../src/incidents/manager.js';
import { compileRules } from '../../src/rules/compile.js';
import type { RuleEngine } from '../../src/rules/types.js';
import { SystemClock, type Clock } from '../../src/shared/clock.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import type { ProbeCheckSet } from '../../src/incidents/planner.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { rule as baseRule } from '../rules/helpers.js';
import type { IncidentStore } from '../../src/store/types.js';

export const policy: IncidentPolicy = {
  reopenWindowMs: 60 * 60_000,
  closeAfterMs: null,
  flapping: { windowMs: 10 * 60_000, threshold: 6 },
  uncategorized: { category: 'uncategorized', severity: 'medium', impact: 'single-user', tier: 'L1' },
  maxSubscribers: 50,
};

export function rule(partial: Partial<RuleConfig> & { id: string; when: string }): RuleConfig {
  return baseRule(partial.id, partial.when, {
    classify: { category: 'network.reachability', severity: 'severe', impact: 'multiple-users', tier: 'L2' },
    title: '{{target.name}} fails {{check.name}}',
    ...partial,
  });
}

export function target(id: string, dependsOn: string[] = [], kind = 'server'): TargetRef {
  return { id, kind, name: id.toUpperCase(), site: 'hq', labels: {}, dependsOn };
}

export function sig(t: TargetRef, status: 'ok' | 'fail', at: number, check = 'icmp'): Signal {
  return {
    source: 'probe',
    target: t,
    check: { name: check, type: check },
    status,
    message: status === 'fail' ? `${check} failed` : `${check} ok`,
    values: {},
    labels: {},
    annotations: {},
    at,
  };
}

export interface Harness {
  dir: string;
  path: string;
  store: IncidentStore;
  manager: IncidentManager;
  /** Stops the manager, closes the store and starts both again on the same file. */
  restart(): Promise<void>;
  close(): Promise<void>;
  targets: Map<string, TargetRef>;
  /** The compiled rules the manager classifies with. */
  engine: RuleEngine;
}

export async function harness(opts: {
  rules: RuleConfig[];
  targets?: TargetRef[];
  policy?: IncidentPolicy | undefined;
  clock?: Clock;
  hooks?: ManagerHooks;
  wrapStore?: ((s: IncidentStore) => IncidentStore) | undefined;
  maxQueue?: number;
  /** Largest batch the manager commits (its default otherwise). */
  maxBatch?: number;
  /** Channel ids; with them, escalation (default policy unless `escalation`) plans and announces. */
  notifyChannels?: string[];
  escalation?: EscalationPolicy;
  /** Business hours and maintenance for escalation (24×7, none by default). */
  context?: Partial<Pick<EscalationContext, 'calendarFor' | 'maintenance' | 'communication' | 'silenced'>>;
  /** The manager's logger (silent by default). */
  logger?: Logger;
  /** The configured probe checks, read at every batch (all signals taken without). */
  probeChecks?: () => ProbeCheckSet;
}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-mgr-'));
  const path = join(dir, 'incidents.db');
  const pol = opts.policy ?? policy;
  const { engine, issues } = compileRules(opts.rules, pol.uncategorized);
  if (issues.length > 0) throw new Error(`rules do not compile: ${JSON.stringify(issues)}`);
  const targets = new Map((opts.targets ?? []).map((t) => [t.id, t]));
  const clock = opts.clock ?? new SystemClock();

  const start = async () => {
    const raw = new SqliteStore({ path });
    const store = opts.wrapStore ? opts.wrapStore(raw) : raw;
    await store.open();
    const manager = await IncidentManager.create({
      store,
      clock,
      logger: opts.logger ?? silentLogger(),
      current: () => (opts.probeChecks ? { engine, policy: pol, targets, probeChecks: opts.probeChecks() } : { engine, policy: pol, targets }),
      hooks: opts.hooks,
      maxQueue: opts.maxQueue,
      maxBatch: opts.maxBatch,
      escalation: opts.notifyChannels ? () => escalationContext(opts.escalation ?? defaultDaemonConfig().escalation, opts.notifyChannels!, opts.context) : undefined,
    });
    return { store, manager };
  };

  let cur = await start();
  const h: Harness = {
    dir,
    path,
    targets,
    engine,
    get store() {
      return cur.store;
    },
    get manager() {
      return cur.manager;
    },
    async restart() {
      await cur.manager.stop();
      await cur.store.close();
      cur = await start();
    },
    async close() {
      await cur.manager.stop();
      await cur.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export async function active(store: IncidentStore) {
  return (await store.list({ status: ['open', 'acknowledged'] }, 500)).items;
}

/**
 * A store whose commit runs `before` first (which may throw, for a failing store, or wait, for a
 * slow one); every other method is the store's own.
 */
export function beforeCommit(before: () => Promise<void> | void): (s: IncidentStore) => IncidentStore {
  return (s) =>
    new Proxy(s, {
      get(obj, prop, recv) {
        if (prop === 'commit') {
          return async (...args: Parameters<IncidentStore['commit']>) => {
            await before();
            return obj.commit(...args);
          };
        }
        const v = Reflect.get(obj, prop, recv);
        return typeof v === 'function' ? v.bind(obj) : v;
      },
    });
}
