// The settings a reload cannot apply: they built something at start-up that lives as long as the
// daemon (a listening socket, an open store, a lock). One list, read by the reload: a changed one
// is named with why it waits for a restart, and its running value stays in effect (and in
// app.config()) until then. Every other setting is read from the config in force and applies at once.
import { isDeepStrictEqual } from 'node:util';
import type { LoadedConfig } from '../config/load.js';
import type { DaemonConfig } from '../config/types.js';

/** A key of DaemonConfig, or a key of one of its objects: `listen`, `ingest.journalDir`. */
type DaemonPath = {
  [K in Extract<keyof DaemonConfig, string>]: K | (DaemonConfig[K] extends readonly unknown[] ? never : DaemonConfig[K] extends object ? `${K}.${keyof DaemonConfig[K] & string}` : never);
}[Extract<keyof DaemonConfig, string>];

export interface RestartSetting {
  /** Where it is in DaemonConfig. */
  path: DaemonPath;
  /** As written in incidentd.yaml, for people. */
  setting: string;
  why: string;
}

export const RESTART_SETTINGS: readonly RestartSetting[] = [
  { path: 'store', setting: 'store', why: 'the store is opened once, at start-up' },
  { path: 'listen', setting: 'listen', why: 'the HTTP API listens on it from start-up' },
  { path: 'channels', setting: 'channels', why: 'channels are built once at start-up (the outbox delivers through them)' },
  { path: 'auth.oidc', setting: 'auth.oidc', why: 'the single sign-on routes and the identity provider client are set up at start-up' },
  { path: 'snmpTraps', setting: 'snmp_traps', why: 'the SNMP trap receiver is bound at start-up' },
  { path: 'scheduler', setting: 'scheduler', why: "the scheduler's concurrency and jitter are fixed when it is built" },
  {
    path: 'ingest.journalDir',
    setting: 'ingest.journal_dir',
    // A clean stop commits everything journaled, so the old directory then holds nothing unstored.
    why: 'the intake journal is opened and locked at start-up; the restart must follow a clean stop (not a crash) so the old journal holds nothing the store lacks',
  },
];

export interface RestartNotice {
  setting: string;
  why: string;
}

function valueAt(daemon: DaemonConfig, path: string): unknown {
  let v: unknown = daemon;
  for (const key of path.split('.')) v = (v as Record<string, unknown>)[key];
  return v;
}

/** A copy of `obj` with the value at `keys` replaced; the objects along the path are copied, not changed. */
function withValueAt<T extends object>(obj: T, keys: readonly string[], value: unknown): T {
  const [key, ...rest] = keys;
  if (key === undefined) return obj;
  const inner = (obj as Record<string, unknown>)[key];
  return { ...obj, [key]: rest.length === 0 ? value : withValueAt(inner as object, rest, value) };
}

/**
 * The config to put in force after a reload: `next`, with every restart-only setting kept at its
 * running value; and which of those `next` changes (in the order of RESTART_SETTINGS).
 */
export function keepRestartSettings(running: LoadedConfig, next: LoadedConfig): { effective: LoadedConfig; pending: RestartNotice[] } {
  let daemon = next.daemon;
  const pending: RestartNotice[] = [];
  for (const s of RESTART_SETTINGS) {
    const now = valueAt(running.daemon, s.path);
    if (isDeepStrictEqual(valueAt(next.daemon, s.path), now)) continue;
    pending.push({ setting: s.setting, why: s.why });
    daemon = withValueAt(daemon, s.path.split('.'), now);
  }
  return { effective: pending.length === 0 ? next : { ...next, daemon }, pending };
}
