// tcp: connect, optionally send a line, optionally wait for a banner substring (SSH, SMTP, FTP…).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import type { Value } from '../domain/signal.js';
import { abortMessage, msSince, startDeadline } from './deadline.js';
import type { ProbeContext, ProbeKind } from './types.js';

/** Enough for any greeting; a server that talks more without matching has failed the check. */
const MAX_BANNER_BYTES = 4096;

const schema = z.strictObject({
  host: z.string().min(1).describe('Host name or IP address to connect to, e.g. `mail.example.org` or `10.0.0.5`.'),
  port: z.number().int().min(1).max(65535).describe('TCP port, 1-65535.'),
  expect_banner: z
    .string()
    .min(1)
    .optional()
    .describe('Text that must appear in the first bytes the server sends (e.g. `SSH-2.0` or `220`). Without it, a completed connect is enough.'),
  send: z
    .string()
    .optional()
    .describe('Text sent right after connecting (e.g. `PING\\r\\n`); the banner check then applies to the reply.'),
});

export type TcpSpec = z.infer<typeof schema>;

export function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Printable, short rendering of what a server sent, for messages. */
export function quoteSnippet(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

function socketErrorMessage(err: NodeJS.ErrnoException, where: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where}: connection refused (nothing listens on that port, or a firewall rejects it)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `${where}: cannot resolve host name (${err.code}); check the spelling and DNS`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where}: host unreachable (${err.code})`;
    case 'ECONNRESET':
      return `${where}: connection reset by the server`;
    default:
      return `${where}: ${err.message}`;
  }
}

function runTcp(spec: TcpSpec, ctx: ProbeContext): Promise<CheckResult> {
  const where = hostPort(spec.host, spec.port);
  const deadline = startDeadline(ctx);
  const started = performance.now();
  const elapsed = () => msSince(started);

  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let connectMs: number | undefined;
    let received = '';
    let receivedBytes = 0;

    // The server answered once it took part in what the check asks for: the connect, and with
    // expect_banner some bytes. A check it did not answer is a partial reading (like http's).
    const answered = () => connectMs !== undefined && (spec.expect_banner === undefined || receivedBytes > 0);
    const finish = (status: 'ok' | 'fail', message: string) => {
      if (done) return;
      done = true;
      deadline.dispose();
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      const values: Record<string, Value> = { answered: answered() };
      if (connectMs !== undefined) values.connectMs = connectMs;
      const result: CheckResult = { status, message, latencyMs: elapsed(), values };
      if (status === 'fail' && !answered()) result.partial = true;
      resolve(result);
    };

    const onAbort = () => {
      const why = abortMessage(deadline.signal, ctx.timeoutMs);
      if (connectMs === undefined) finish('fail', `${where}: connect ${why}`);
      else if (spec.expect_banner !== undefined)
        finish(
          'fail',
          `${where}: connected in ${connectMs} ms but no banner containing ${quoteSnippet(spec.expect_banner)} arrived; ${why}` +
            (received ? ` (got ${quoteSnippet(received)})` : ' (the server sent nothing)'),
        );
      else finish('fail', `${where}: ${why}`);
    };

    const socket = net.connect({ host: spec.host, port: spec.port });
    if (deadline.signal.aborted) {
      onAbort();
      return;
    }
    deadline.signal.addEventListener('abort', onAbort, { once: true });

    socket.once('connect', () => {
      connectMs = elapsed();
      if (spec.send !== undefined) {
        socket.write(spec.send, () => {
          if (spec.expect_banner === undefined) finish('ok', `${where}: connected in ${connectMs} ms, sent ${spec.send!.length} bytes`);
        });
      } else if (spec.expect_banner === undefined) {
        finish('ok', `${where}: connected in ${connectMs} ms`);
      }
    });

    socket.on('data', (chunk: Buffer) => {
      if (spec.expect_banner === undefined) return;
      const room = MAX_BANNER_BYTES - receivedBytes;
      const part = chunk.subarray(0, Math.max(0, room));
      receivedBytes += part.length;
      received += part.toString('utf8');
      if (received.includes(spec.expect_banner)) {
        finish('ok', `${where}: connected in ${connectMs} ms, banner ${quoteSnippet(received.trim())}`);
      } else if (receivedBytes >= MAX_BANNER_BYTES) {
        finish(
          'fail',
          `${where}: banner mismatch: the first ${MAX_BANNER_BYTES} bytes do not contain ${quoteSnippet(spec.expect_banner)} (got ${quoteSnippet(received)})`,
        );
      }
    });

    socket.once('end', () => {
      if (spec.expect_banner === undefined) return;
      finish(
        'fail',
        received
          ? `${where}: banner mismatch: expected ${quoteSnippet(spec.expect_banner)}, got ${quoteSnippet(received)} before the server closed the connection`
          : `${where}: the server closed the connection without sending a banner (expected ${quoteSnippet(spec.expect_banner)})`,
      );
    });

    socket.once('error', (err: NodeJS.ErrnoException) => finish('fail', socketErrorMessage(err, where)));
    socket.once('close', () => {
      if (!done) finish('fail', `${where}: connection closed unexpectedly`);
    });
  });
}

export const tcpKind: ProbeKind<TcpSpec> = {
  type: 'tcp',
  schema,
  defaultName: (spec) => `tcp:${spec.port}`,
  run: runTcp,
};
