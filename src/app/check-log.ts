// A check's state changes as log lines: down, up again, unable to run on this machine. Its first
// success after start-up or a reload is only worth a debug line: nothing changed for anyone.
import type { CheckState, CheckStatus, CheckTransitionListener } from '../scheduler/check-status.js';
import type { Logger } from '../shared/logger.js';

/** `1h 2m`, `3m 5s`, `12s`, `0.4s`: how long a state lasted, for people. */
export function humanDuration(ms: number): string {
  if (ms < 10_000) return `${Math.max(0, Math.round(ms / 100) / 10)}s`;
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s % 60 > 0 && d === 0 ? `${s % 60}s` : ''];
  return parts.filter((p) => p !== '').slice(0, 2).join(' ');
}

function describe(c: Readonly<CheckStatus>): string {
  return `check ${c.checkName} of ${c.targetName} (${c.targetId}, ${c.kind})`;
}

/** Logs every state change of a check at info (the first `up` at debug). */
export function checkTransitionLogger(logger: Logger): CheckTransitionListener {
  return (c: Readonly<CheckStatus>, from: CheckState, fromSince: number) => {
    const fields = { event: `check.${c.state}`, target: c.targetId, targetName: c.targetName, check: c.checkName, kind: c.kind, from };
    const lasted = humanDuration(c.since - fromSince);
    switch (c.state) {
      case 'down':
        logger.info(
          { ...fields, why: c.lastError, latencyMs: c.latencyMs },
          from === 'up' ? `${describe(c)} is down after ${lasted} up: ${c.lastError ?? ''}` : `${describe(c)} is down: ${c.lastError ?? ''}`,
        );
        return;
      case 'up':
        if (from === 'unknown') {
          logger.debug({ ...fields, latencyMs: c.latencyMs }, `${describe(c)} is up`);
          return;
        }
        logger.info(
          { ...fields, latencyMs: c.latencyMs, [from === 'down' ? 'downForMs' : 'cannotRunForMs']: c.since - fromSince },
          from === 'down' ? `${describe(c)} is up again after ${lasted} down` : `${describe(c)} runs again after ${lasted} unable to run`,
        );
        return;
      case 'cannot-run':
        logger.info({ ...fields, why: c.lastError }, `${describe(c)} cannot run on this machine: ${c.lastError ?? ''}`);
        return;
      case 'unknown':
        return;
    }
  };
}
