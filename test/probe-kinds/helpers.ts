import http from 'node:http';
import net from 'node:net';
import type { CheckResult } from '../../src/domain/check.js';
import type { ProbeKind } from '../../src/probe-kinds/types.js';

export interface Running {
  port: number;
  close(): Promise<void>;
}

/** Serves `server` on 127.0.0.1:<free port>; close() also drops open connections. */
export async function serve(server: net.Server): Promise<Running> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function tcpServer(onConnection: (socket: net.Socket) => void): Promise<Running> {
  return serve(net.createServer(onConnection));
}

export function httpServer(handler: http.RequestListener): Promise<Running> {
  return serve(http.createServer(handler));
}

/** A loopback port that nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const s = await tcpServer(() => undefined);
  await s.close();
  return s.port;
}

/** Runs a kind the way the config loader would: the spec goes through the kind's schema first. */
export function runKind(kind: ProbeKind, rawSpec: unknown, timeoutMs = 2000): Promise<CheckResult> {
  const spec: unknown = kind.schema.parse(rawSpec);
  return kind.run(spec, { timeoutMs, signal: new AbortController().signal });
}
