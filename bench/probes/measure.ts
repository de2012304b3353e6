// Small measuring helpers for the probe benchmark.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** CPU seconds used by this process so far (user + system). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

let clkTck: number | undefined;
/** CPU seconds of this process's finished children (e.g. `ping`), from /proc; 0 where there is no /proc. */
export function childCpuSeconds(): number {
  try {
    clkTck ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name: state is field 3; cutime and cstime are fields 16 and 17.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cutime = Number(rest[13]);
    const cstime = Number(rest[14]);
    return (cutime + cstime) / clkTck;
  } catch {
    return 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toFixed(digits);
}
