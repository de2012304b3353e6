// Many echo requests through one `fping` process. Spawning a program is what an icmp check costs
// (a `ping` per check spent 63 % of the main thread in spawn); fping pings hundreds of hosts in one
// run, so checks that start together (the scheduler aligns icmp runs, see ProbeKind.alignMs) share
// one process. Like ping, fping carries its own socket capability: the daemon needs none.
import { spawn, type ChildProcess } from 'node:child_process';

export type EchoAnswer =
  /** fping reported on the host: one entry per request sent, the round trip in ms or null when lost. */
  | { kind: 'replies'; rtts: (number | null)[]; waitedMs: number }
  /** The host name does not resolve (fping's own words). */
  | { kind: 'unresolved'; complaint: string }
  /** fping said something else about the host, or nothing at all. */
  | { kind: 'error'; complaint: string }
  /** This machine cannot run fping, or fping may not open its socket: nothing is known of the host. */
  | { kind: 'cannot-run'; reason: string }
  | { kind: 'aborted' };

export interface EchoAsk {
  host: string;
  count: number;
  /** The check's whole budget; the run must answer within it. */
  timeoutMs: number;
  signal: AbortSignal;
}

export interface FpingOptions {
  /** The fping program (a name found on PATH, or a path). */
  program: string;
  /** How long the first request of a batch waits for others; runs the scheduler starts together arrive within it. */
  lingerMs?: number;
  /** Most distinct hosts in one fping run. */
  maxHosts?: number;
  /** ms between two requests to one host when count > 1 (what the ping path used: 0.2 s). */
  periodMs?: number;
}

/** ms between two requests to different hosts: fping's smallest that an unprivileged user may ask for. */
const INTERVAL_MS = 1;
/** Kept free of the budget for starting fping and reading its answer. */
const MARGIN_MS = 250;
const MIN_WAIT_MS = 100;

interface Pending {
  ask: EchoAsk;
  queuedAt: number;
  resolve: (a: EchoAnswer) => void;
  settled: boolean;
  onAbort: () => void;
}

interface Batch {
  asks: Pending[];
  timer: NodeJS.Timeout | null;
}

export class FpingBatcher {
  private readonly lingerMs: number;
  private readonly maxHosts: number;
  private readonly periodMs: number;
  /** Requests are batched with others of the same count and timeout, so each gets its own budget. */
  private readonly batches = new Map<string, Batch>();
  /** Processes of the batches in flight, for stop(). */
  private readonly running = new Set<ChildProcess>();
  /** fping processes started; the benchmark divides by it. */
  spawned = 0;

  constructor(private readonly options: FpingOptions) {
    this.lingerMs = options.lingerMs ?? 20;
    this.maxHosts = options.maxHosts ?? 500;
    this.periodMs = options.periodMs ?? 200;
  }

  echo(ask: EchoAsk): Promise<EchoAnswer> {
    if (ask.signal.aborted) return Promise.resolve({ kind: 'aborted' });
    return new Promise<EchoAnswer>((resolve) => {
      const key = `${ask.count}/${ask.timeoutMs}`;
      let batch = this.batches.get(key);
      if (!batch) {
        batch = { asks: [], timer: null };
        this.batches.set(key, batch);
      }
      const pending: Pending = {
        ask,
        queuedAt: performance.now(),
        resolve,
        settled: false,
        onAbort: () => settle(pending, { kind: 'aborted' }),
      };
      ask.signal.addEventListener('abort', pending.onAbort, { once: true });
      batch.asks.push(pending);
      const distinct = new Set(batch.asks.map((p) => p.ask.host)).size;
      if (distinct >= this.maxHosts) this.flush(key);
      else batch.timer ??= setTimeout(() => this.flush(key), this.lingerMs);
    });
  }

  /** Ends every fping run in flight (their checks answer aborted through their own signals). */
  stop(): void {
    for (const child of this.running) child.kill('SIGTERM');
  }

  private flush(key: string): void {
    const batch = this.batches.get(key);
    if (!batch) return;
    this.batches.delete(key);
    if (batch.timer) clearTimeout(batch.timer);
    const asks = batch.asks.filter((p) => !p.settled);
    if (asks.length === 0) return;
    const { count, timeoutMs } = asks[0]!.ask;
    const hosts = [...new Set(asks.map((p) => p.ask.host))];
    const now = performance.now();
    const waited = Math.max(...asks.map((p) => now - p.queuedAt));
    // fping ends after its last request's wait: (count-1) periods, the sending of the batch, the wait.
    const waitMs = Math.max(MIN_WAIT_MS, Math.floor(timeoutMs - waited - (count - 1) * this.periodMs - hosts.length * INTERVAL_MS - MARGIN_MS));
    const args = ['-C', String(count), '-p', String(this.periodMs), '-t', String(waitMs), '-i', String(INTERVAL_MS), '-r', '0', ...hosts];
    this.run(args, hosts, asks, waitMs);
  }

  private run(args: string[], hosts: string[], asks: Pending[], waitMs: number): void {
    let child: ChildProcess;
    try {
      // Per-request lines go to stdout and are not needed; the summary (-C) and errors come on stderr.
      child = spawn(this.options.program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      for (const p of asks) settle(p, { kind: 'cannot-run', reason: startFailure(this.options.program, err) });
      return;
    }
    this.spawned++;
    this.running.add(child);
    const chunks: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => chunks.push(c));
    // Once every check of the batch has given up (timeout, shutdown), nobody waits for the answer.
    const check = () => {
      if (asks.every((p) => p.settled)) child.kill('SIGTERM');
    };
    for (const p of asks) p.ask.signal.addEventListener('abort', check, { once: true });
    let failed: unknown = null;
    child.on('error', (err) => {
      failed = err;
    });
    child.on('close', (code) => {
      this.running.delete(child);
      for (const p of asks) p.ask.signal.removeEventListener('abort', check);
      if (failed !== null) {
        for (const p of asks) settle(p, { kind: 'cannot-run', reason: startFailure(this.options.program, failed) });
        return;
      }
      const report = parseFpingReport(Buffer.concat(chunks).toString('utf8'), hosts);
      for (const p of asks) settle(p, answerFor(report, p.ask.host, code, waitMs));
    });
  }
}

function settle(p: Pending, answer: EchoAnswer): void {
  if (p.settled) return;
  p.settled = true;
  p.ask.signal.removeEventListener('abort', p.onAbort);
  p.resolve(answer);
}

function startFailure(program: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return `the fping program "${program}" was not found`;
  return `the fping program "${program}" could not be started (${err instanceof Error ? err.message : String(err)}); check that the daemon's user may run it`;
}

export interface FpingReport {
  /** Per host: round trips in ms, null for a request without answer. */
  replies: Map<string, (number | null)[]>;
  /** Per host: what fping said about it (e.g. "Name or service not known"). */
  complaints: Map<string, string>;
  /** Lines about the run as a whole (e.g. "fping: can't create socket (must run as root?)"). */
  general: string[];
}

const SUMMARY = /^(\S+)\s+:((?:\s+(?:-|\d+(?:\.\d+)?))+)\s*$/;
const COMPLAINT = /^(\S+): (.+)$/;

/** Reads what `fping -C n` writes to stderr: a summary line per host, and complaints. */
export function parseFpingReport(stderr: string, hosts: readonly string[]): FpingReport {
  const asked = new Set(hosts);
  const report: FpingReport = { replies: new Map(), complaints: new Map(), general: [] };
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const summary = SUMMARY.exec(line);
    if (summary && asked.has(summary[1]!)) {
      report.replies.set(
        summary[1]!,
        summary[2]!.trim().split(/\s+/).map((v) => (v === '-' ? null : Number(v))),
      );
      continue;
    }
    const complaint = COMPLAINT.exec(line);
    if (complaint && asked.has(complaint[1]!)) {
      // The first complaint says why; later ones (e.g. each unreachable reply) add nothing.
      if (!report.complaints.has(complaint[1]!)) report.complaints.set(complaint[1]!, complaint[2]!.trim());
      continue;
    }
    // Per-reply lines (ICMP unreachable from a router) name their sender, not an asked host.
    if (/^ICMP /.test(line)) continue;
    report.general.push(line);
  }
  return report;
}

const UNRESOLVED = /not known|unknown host|resolve|Temporary failure in name resolution|No address associated/i;
const NO_SOCKET = /can't create socket|not permitted|permission denied/i;

function answerFor(report: FpingReport, host: string, code: number | null, waitMs: number): EchoAnswer {
  const rtts = report.replies.get(host);
  if (rtts) return { kind: 'replies', rtts, waitedMs: waitMs };
  const complaint = report.complaints.get(host);
  if (complaint !== undefined) return UNRESOLVED.test(complaint) ? { kind: 'unresolved', complaint } : { kind: 'error', complaint };
  const general = report.general.join('; ');
  if (NO_SOCKET.test(general)) {
    return {
      kind: 'cannot-run',
      reason: `fping may not open an ICMP socket (${general}); give it the capability (setcap cap_net_raw+ep "$(command -v fping)") or allow unprivileged ping (sysctl net.ipv4.ping_group_range="0 2147483647")`,
    };
  }
  return { kind: 'error', complaint: general !== '' ? `fping: ${general}` : `fping gave no answer about the host (exit code ${code ?? 'none'})` };
}
