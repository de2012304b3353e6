// A TCP proxy on loopback that a test can unplug. Clients connect to it instead of the real
// server; cut() drops every connection with a reset and refuses new ones until restore(), as a
// pulled cable or a firewall would, without touching the server behind it.
import net from 'node:net';
import { Transform } from 'node:stream';

/** Where the proxy forwards to: a TCP address, or a Unix socket. */
export type Upstream = { host: string; port: number } | { path: string };

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export class TcpProxy {
  /** Connections forwarded to the upstream since start. */
  forwarded = 0;
  /** Connections reset on arrival while cut. */
  refused = 0;
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private unplugged = false;
  /** Armed by cutBefore(): chunks of requests still to pass before the cut, or null. */
  private countdown: number | null = null;

  private constructor(private readonly upstream: Upstream) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on 127.0.0.1, on a port the system picks. */
  static async start(upstream: Upstream): Promise<TcpProxy> {
    const proxy = new TcpProxy(upstream);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** `127.0.0.1:port`, for a connection string. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections currently forwarded (both ends not yet closed). */
  get open(): number {
    return this.pairs.size;
  }

  get isCut(): boolean {
    return this.unplugged;
  }

  /** Resets every forwarded connection and every new one until restore(). */
  cut(): void {
    this.unplugged = true;
    for (const pair of this.pairs) {
      reset(pair.client);
      this.resetUpstream(pair.upstream);
    }
  }

  restore(): void {
    this.unplugged = false;
  }

  /**
   * Cuts the cable just before the n-th chunk of data from the clients (counted from now, over
   * all connections) would reach the upstream; that chunk and all after it are lost. Lets a test
   * cut a conversation in the middle, after some of its requests have arrived and before the
   * others; `isCut` tells when it happened.
   */
  cutBefore(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`cutBefore needs a whole number >= 1, not ${n}`);
    this.countdown = n;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.unplugged) {
      // Listening on but answering with a reset keeps the port ours for the restore; to the
      // client it is as unreachable as a closed port.
      this.refused++;
      reset(client);
      return;
    }
    this.forwarded++;
    const upstream = net.connect(this.upstream);
    // Small request/answer messages: without this, Nagle's algorithm adds delays the real
    // server would not have.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    let closed = 0;
    const onClose = (other: net.Socket) => () => {
      // A graceful close on one side ends the other once its data is written; an error there
      // already destroyed it.
      other.end();
      if (++closed === 2) this.pairs.delete(pair);
    };
    client.once('close', onClose(upstream));
    upstream.once('close', onClose(client));
    // A failure on one side (the upstream refusing, a reset) is passed on as a reset.
    client.on('error', () => this.resetUpstream(upstream));
    upstream.on('error', () => reset(client));
    // Requests pass a gate that counts them for cutBefore(); answers flow back as they are.
    const gate = new Transform({
      transform: (chunk: Buffer, _encoding, forward) => {
        if (this.mayForward()) forward(null, chunk);
        else forward();
      },
    });
    client.pipe(gate).pipe(upstream);
    upstream.pipe(client);
  }

  /** Counts a chunk towards an armed cutBefore(); false once the cable is cut. */
  private mayForward(): boolean {
    if (this.countdown !== null && --this.countdown === 0) {
      this.countdown = null;
      this.cut();
    }
    return !this.unplugged;
  }

  /** Unix sockets have no reset; the upstream end of one is destroyed instead. */
  private resetUpstream(socket: net.Socket): void {
    if ('path' in this.upstream) socket.destroy();
    else reset(socket);
  }
}

/** Closes a TCP socket with RST rather than FIN: the peer sees ECONNRESET at once, not an orderly goodbye. */
function reset(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}
