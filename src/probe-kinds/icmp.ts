// icmp: echo requests through the system's `fping` (many hosts per process, src/probe-kinds/fping.ts)
// when it is installed, else one `ping` per check (via the `ping` package). Either program carries
// its own socket capability, so the daemon needs no raw-socket privilege of its own.
import type PingModule from 'ping';
import { isIPv6 } from 'node:net';
import { platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import type { Value } from '../domain/signal.js';
import { abortMessage, errorMessage, msSince, startDeadline } from './deadline.js';
import { findProgram } from './programs.js';
import { FpingBatcher, type EchoAnswer } from './fping.js';
import type { ProbeContext, ProbeKind } from './types.js';

// The `ping` package only where fping is missing, loaded then: most daemons never need it.
let pingLoading: Promise<typeof PingModule> | undefined;
const loadPing = (): Promise<typeof PingModule> => (pingLoading ??= import('ping').then((m) => m.default));

const MAX_COUNT = 10;
/** Seconds between echo requests when count > 1 (the smallest iputils allows without root). */
const PACKET_INTERVAL_S = '0.2';

const schema = z.strictObject({
  host: z
    .string()
    .min(1)
    // The host becomes a command-line argument of `ping`: refuse anything that could be an option.
    .regex(/^[A-Za-z0-9_.:%[\]]+(?:-[A-Za-z0-9_.:%[\]]+)*$/, {
      message: 'must be a host name or an IP address (letters, digits, dots, colons, inner hyphens)',
    })
    .describe('Host name or IP address to ping, e.g. `printer-2.example.org` or `10.0.0.7`.'),
  count: z
    .number()
    .int()
    .min(1)
    .max(MAX_COUNT)
    .default(1)
    .describe(`Echo requests per run, 1-${MAX_COUNT}, sent 0.2 s apart. Default 1. packetLoss is over these.`),
});

export type IcmpSpec = z.output<typeof schema>;

interface PingResult {
  alive: boolean;
  output: string;
  avg: string;
  packetLoss: string;
  numeric_host?: string;
}

function toNumber(text: string | number | undefined): number | undefined {
  const n = typeof text === 'number' ? text : Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** The line of ping's output that explains a failure, e.g. "Name or service not known". */
function pingComplaint(output: string): string | undefined {
  const line = output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('ping:'));
  return line?.replace(/^ping:\s*/, '');
}

const INSTALL_HINT =
  'install fping (one process pings many hosts) or iputils-ping (Debian/Ubuntu: apt-get install fping iputils-ping; Alpine: apk add fping iputils)';

/** Runs of checks that start within this grid share one fping process (see ProbeKind.alignMs). */
const ALIGN_MS = 1000;
/** How long a found (or missing) fping is believed before PATH is looked at again. */
const PROGRAM_TTL_MS = 10_000;

let fping: { program: string | null; searched: string; checkedAt: number; batcher: FpingBatcher | null } | null = null;

/** The batcher of the fping on PATH, or null to use ping; installing fping later is noticed. */
async function fpingBatcher(): Promise<FpingBatcher | null> {
  const path = process.env.PATH ?? '';
  const now = performance.now();
  if (fping === null || fping.searched !== path || now - fping.checkedAt > PROGRAM_TTL_MS) {
    const found = await findProgram('fping', path);
    const batcher = found === null ? null : fping?.program === found && fping.batcher ? fping.batcher : new FpingBatcher({ program: found });
    fping = { program: found, searched: path, checkedAt: now, batcher };
  }
  return fping.batcher;
}

/** The program the `ping` package spawns for this host: by name through PATH on Linux, ping6 for IPv6 literals. */
function pingProgram(host: string | null): string {
  const v6 = host !== null && isIPv6(host);
  switch (platform()) {
    case 'darwin':
    case 'freebsd':
      return v6 ? '/sbin/ping6' : '/sbin/ping';
    case 'aix':
      return '/usr/sbin/ping';
    default:
      return v6 ? 'ping6' : 'ping';
  }
}

/** Why neither fping nor ping can be run here (none is installed), or null when one is there. */
async function missingPing(host: string | null): Promise<string | null> {
  if ((await findProgram('fping')) !== null) return null;
  const program = pingProgram(host);
  if ((await findProgram(program)) !== null) return null;
  const where = program.startsWith('/') ? `${program} does not exist` : `"${program}" is not on PATH (${process.env.PATH ?? ''})`;
  return `the icmp probe needs the fping or the ping program: ${where}, nor is "fping"; ${INSTALL_HINT}`;
}

/** ping ran but may not open its socket: a missing capability of this machine, not a host that is down. */
function socketRefused(complaint: string): string | null {
  if (!/^socket:.*(not permitted|permission denied)/i.test(complaint)) return null;
  return `ping may not open an ICMP socket (${complaint}); give it the capability (setcap cap_net_raw+ep "$(command -v ping)") or allow unprivileged ping (sysctl net.ipv4.ping_group_range="0 2147483647")`;
}

async function runIcmp(spec: IcmpSpec, ctx: ProbeContext): Promise<CheckResult> {
  const batcher = await fpingBatcher();
  return batcher ? runFping(batcher, spec, ctx) : runPing(spec, ctx);
}

/** The same result as the ping path gives for the same replies: rtt average, loss, messages. */
async function runFping(batcher: FpingBatcher, spec: IcmpSpec, ctx: ProbeContext): Promise<CheckResult> {
  const count = spec.count ?? 1;
  const deadline = startDeadline(ctx);
  const started = performance.now();
  const elapsed = () => msSince(started);
  try {
    const answer: EchoAnswer = await batcher.echo({ host: spec.host, count, timeoutMs: ctx.timeoutMs, signal: deadline.signal });
    switch (answer.kind) {
      case 'aborted':
        return { status: 'fail', message: `ping ${spec.host}: ${abortMessage(deadline.signal, ctx.timeoutMs)}`, latencyMs: elapsed(), values: { answered: false }, partial: true };
      case 'cannot-run': {
        // fping vanished since it was found, or may not open its socket: this machine needs fixing.
        const reason = (await missingPing(spec.host)) ?? answer.reason;
        return { status: 'fail', message: `ping ${spec.host}: ${reason}`, latencyMs: elapsed(), values: {}, partial: true, cannotRun: reason };
      }
      case 'unresolved':
        return {
          status: 'fail',
          message: `ping ${spec.host}: cannot resolve host name (${answer.complaint}); check the spelling and DNS`,
          latencyMs: elapsed(),
          values: { answered: false },
          partial: true,
        };
      case 'error':
        return { status: 'fail', message: `ping ${spec.host}: ${answer.complaint}`, latencyMs: elapsed(), values: { answered: false }, partial: true };
      case 'replies': {
        const got = answer.rtts.filter((r): r is number => r !== null);
        const loss = round3(((count - got.length) / count) * 100);
        if (got.length > 0) {
          const rtt = round3(got.reduce((a, b) => a + b, 0) / got.length);
          return {
            status: 'ok',
            message: `ping ${spec.host}: ${got.length}/${count} replies, avg rtt ${rtt} ms`,
            latencyMs: elapsed(),
            values: { answered: true, rttMs: rtt, packetLoss: loss },
          };
        }
        const waitS = Math.round(answer.waitedMs / 100) / 10;
        return {
          status: 'fail',
          message: `ping ${spec.host}: no reply to ${count} echo request${count === 1 ? '' : 's'} within ${waitS} s`,
          latencyMs: elapsed(),
          values: { answered: false, packetLoss: loss },
          partial: true,
        };
      }
    }
  } finally {
    deadline.dispose();
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

async function runPing(spec: IcmpSpec, ctx: ProbeContext): Promise<CheckResult> {
  const count = spec.count ?? 1;
  const deadline = startDeadline(ctx);
  const started = performance.now();
  const elapsed = () => msSince(started);
  // ping takes whole seconds; round down so the binary exits by itself before our timeout.
  const deadlineS = Math.max(1, Math.floor(ctx.timeoutMs / 1000));
  try {
    const ping = await loadPing();
    const probe = ping.promise.probe(spec.host, {
      min_reply: count,
      timeout: deadlineS,
      deadline: deadlineS,
      extra: count > 1 ? ['-i', PACKET_INTERVAL_S] : [],
    }) as Promise<unknown> as Promise<PingResult>;
    // The package cannot kill its child; the -w deadline above ends it, and we stop waiting here.
    const aborted = new Promise<'aborted'>((resolve) => {
      if (deadline.signal.aborted) resolve('aborted');
      deadline.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    let res: PingResult | 'aborted';
    try {
      res = await Promise.race([probe, aborted]);
    } catch (err) {
      // The program did not start: nothing was asked of the host, and this machine needs fixing.
      const reason =
        (await missingPing(spec.host)) ??
        `the ping program could not be started (${errorMessage(err)}); check that the daemon's user may run it, or ${INSTALL_HINT}`;
      return { status: 'fail', message: `ping ${spec.host}: ${reason}`, latencyMs: elapsed(), values: {}, partial: true, cannotRun: reason };
    }
    if (res === 'aborted') {
      probe.catch(() => undefined);
      return {
        status: 'fail',
        message: `ping ${spec.host}: ${abortMessage(deadline.signal, ctx.timeoutMs)}`,
        latencyMs: elapsed(),
        values: { answered: false },
        partial: true,
      };
    }

    const loss = toNumber(res.packetLoss);
    const rtt = toNumber(res.avg);
    if (res.alive && rtt !== undefined) {
      const values: Record<string, Value> = { answered: true, rttMs: rtt, packetLoss: loss ?? 0 };
      return {
        status: 'ok',
        message: `ping ${spec.host}: ${count - Math.round(((loss ?? 0) * count) / 100)}/${count} replies, avg rtt ${rtt} ms`,
        latencyMs: elapsed(),
        values,
      };
    }
    const complaint = pingComplaint(res.output);
    const refused = complaint === undefined ? null : socketRefused(complaint);
    if (refused !== null) {
      return { status: 'fail', message: `ping ${spec.host}: ${refused}`, latencyMs: elapsed(), values: {}, partial: true, cannotRun: refused };
    }
    if (complaint !== undefined) {
      const unresolved = /not known|unknown host|resolve|Temporary failure in name resolution/i.test(complaint);
      return {
        status: 'fail',
        message: unresolved
          ? `ping ${spec.host}: cannot resolve host name (${complaint}); check the spelling and DNS`
          : `ping ${spec.host}: ${complaint}`,
        latencyMs: elapsed(),
        values: { answered: false },
        partial: true,
      };
    }
    // No reply: the host did not answer, and nothing else was measured.
    return {
      status: 'fail',
      message: `ping ${spec.host}: no reply to ${count} echo request${count === 1 ? '' : 's'} within ${deadlineS} s`,
      latencyMs: elapsed(),
      values: { answered: false, packetLoss: loss ?? 100 },
      partial: true,
    };
  } finally {
    deadline.dispose();
  }
}

export const icmpKind: ProbeKind<IcmpSpec> = {
  type: 'icmp',
  schema,
  defaultName: () => 'icmp',
  run: runIcmp,
  alignMs: ALIGN_MS,
  prerequisites: () => missingPing(null),
};
