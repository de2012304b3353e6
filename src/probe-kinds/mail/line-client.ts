// A small line-oriented client for SMTP, IMAP and POP3: CRLF lines in and out over net, upgraded
// in place to TLS (implicit TLS and STARTTLS take the same path), with bounded buffers and one
// abort signal that ends everything at the run's deadline.
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import tls from 'node:tls';
import { MailConnectionClosedError, MailLineTooLongError, MailReplyError } from './errors.js';
import { inspect } from 'node:util';

/** Longer than any reply line a mail server sends (IMAP capability lists included). */
export const MAX_LINE_BYTES = 16 * 1024;
/** A server that floods lines nobody asked for is broken; stop buffering them. */
const MAX_QUEUED_LINES = 1000;

export interface TlsHandshake {
  /** The certificate chains to a trusted CA and matches the host name. */
  authorized: boolean;
  /** Why it is not authorized, as Node reports it (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`). */
  authorizationError: string | undefined;
  /** The peer certificate; undefined when the server sent none. */
  certificate: tls.PeerCertificate | undefined;
}

interface Waiter {
  resolve(line: string): void;
  reject(err: unknown): void;
}

export class LineClient {
  private socket: net.Socket;
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private readonly lines: string[] = [];
  // Boxed: the reason may be an abort signal's reason of any type, so "no failure" cannot be a value of it.
  private failure: { reason: unknown } | undefined;
  private waiter: Waiter | undefined;
  private closed = false;
  private heardFrom = false;

  private constructor(
    socket: net.Socket,
    private readonly signal: AbortSignal,
  ) {
    this.socket = socket;
    this.attach(socket);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Opens a TCP connection; rejects with the socket error or the signal's reason. */
  static connect(host: string, port: number, signal: AbortSignal): Promise<LineClient> {
    return new Promise<LineClient>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const socket = net.connect({ host, port });
      const cleanup = () => {
        signal.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
      };
      const onAbort = () => {
        cleanup();
        socket.destroy();
        reject(signal.reason);
      };
      const onError = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        cleanup();
        // Step latencies should measure the server, not Nagle's algorithm waiting on delayed ACKs.
        socket.setNoDelay(true);
        resolve(new LineClient(socket, signal));
      });
    });
  }

  /** The server sent something (any bytes): it answered, whatever it said. */
  get heard(): boolean {
    return this.heardFrom;
  }

  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** The next line the server sent, without its line ending. One reader at a time. */
  readLine(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failure !== undefined) return Promise.reject(this.failure.reason);
    if (this.waiter) return Promise.reject(new Error('LineClient.readLine called while another read is pending'));
    return new Promise<string>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Sends `line` followed by CRLF. After a failure this does nothing; the next read reports it. */
  writeLine(line: string): void {
    if (this.failure !== undefined) return;
    this.socket.write(`${line}\r\n`);
  }

  /**
   * Runs a TLS handshake over the current connection. The certificate is checked by the caller
   * (see `authorized`), so its lifetime can be reported even when it is not trusted.
   */
  startTls(host: string): Promise<TlsHandshake> {
    if (this.failure !== undefined) return Promise.reject(this.failure.reason);
    // Anything already buffered arrived in clear text before the handshake; trusting it after
    // the upgrade is the STARTTLS command-injection hole (CVE-2011-0411 and friends).
    if (this.lines.length > 0 || this.partial !== '')
      return Promise.reject(
        new MailReplyError('the server sent more data right before the TLS handshake; refusing to continue (broken server or injection attempt)'),
      );
    const raw = this.socket;
    this.detach(raw);
    // The raw socket must never raise an unhandled 'error' once the TLS socket owns it.
    raw.on('error', () => undefined);
    return new Promise<TlsHandshake>((resolve, reject) => {
      const secure = tls.connect({
        socket: raw,
        host,
        // SNI carries names only; an IP address is still checked against the certificate.
        servername: net.isIP(host) === 0 ? host : undefined,
        rejectUnauthorized: false,
      });
      this.socket = secure;
      const cleanup = () => {
        this.signal.removeEventListener('abort', onAbort);
        secure.removeListener('error', onError);
      };
      const onAbort = () => {
        cleanup();
        this.fail(this.signal.reason);
        reject(this.signal.reason);
      };
      const onError = (err: Error) => {
        cleanup();
        this.fail(err);
        reject(err);
      };
      if (this.signal.aborted) return onAbort();
      this.signal.addEventListener('abort', onAbort, { once: true });
      secure.once('error', onError);
      secure.once('secureConnect', () => {
        cleanup();
        // A completed handshake is an answer (implicit TLS comes before any protocol line).
        this.heardFrom = true;
        this.decoder = new StringDecoder('utf8');
        this.attach(secure);
        const cert = secure.getPeerCertificate();
        const reason: unknown = secure.authorizationError;
        resolve({
          authorized: secure.authorized,
          // Node sets a string code here (e.g. DEPTH_ZERO_SELF_SIGNED_CERT) though its types say Error.
          authorizationError: reason === undefined || reason === null ? undefined : typeof reason === 'string' ? reason : inspect(reason),
          certificate: cert && Object.keys(cert).length > 0 ? cert : undefined,
        });
      });
    });
  }

  /** Ends the connection. With `lastLine` (QUIT, LOGOUT) it is sent first, without waiting for a reply. */
  close(lastLine?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    const socket = this.socket;
    if (lastLine !== undefined && this.failure === undefined && !socket.destroyed) {
      this.failure = { reason: new MailConnectionClosedError() };
      socket.end(`${lastLine}\r\n`, () => socket.destroy());
    } else {
      this.fail(new MailConnectionClosedError());
    }
  }

  private readonly onAbort = () => {
    // The deadline wins over lines still queued: nobody should read on after it.
    this.lines.length = 0;
    this.fail(this.signal.reason);
  };

  private readonly onData = (chunk: Buffer) => {
    if (chunk.length > 0) this.heardFrom = true;
    this.partial += this.decoder.write(chunk);
    let end: number;
    while ((end = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, end);
      this.lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      this.partial = this.partial.slice(end + 1);
    }
    if (this.partial.length > MAX_LINE_BYTES) this.fail(new MailLineTooLongError(MAX_LINE_BYTES));
    else if (this.lines.length > MAX_QUEUED_LINES)
      this.fail(new MailReplyError(`the server sent more than ${MAX_QUEUED_LINES} lines without being asked; is this port really a mail service?`));
    this.deliver();
  };

  private readonly onError = (err: Error) => this.fail(err);
  private readonly onClose = () => this.fail(new MailConnectionClosedError());

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: net.Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
  }

  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = { reason: err };
    this.socket.destroy();
    this.deliver();
  }

  private deliver(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const line = this.lines.shift();
    if (line !== undefined) {
      this.waiter = undefined;
      waiter.resolve(line);
    } else if (this.failure !== undefined) {
      this.waiter = undefined;
      waiter.reject(this.failure.reason);
    }
  }
}
