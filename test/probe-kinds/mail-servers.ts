// Loopback IMAP and POP3 servers that speak just enough of the protocol for the probes (greeting,
// CAPABILITY/CAPA, STARTTLS/STLS, LOGIN or USER/PASS, LOGOUT/QUIT), plain or TLS. Used by the probe
// tests and by `incidentd demo`; certificates come from `selfSignedCert` (needs the openssl binary).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface TlsKeyPair {
  key: string;
  cert: string;
}

export interface MailServerOptions {
  /** Implicit TLS: the handshake comes first (like ports 993 / 995). */
  tls?: TlsKeyPair;
  /** Offer STARTTLS (IMAP) / STLS (POP3) on a plain connection, with this certificate. */
  starttls?: TlsKeyPair;
  /** user name → password. Any other login is refused. Default: nobody can log in. */
  users?: Record<string, string>;
  /** The greeting line sent on connect, as is (default `* OK …` / `+OK …`). */
  greeting?: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (a free port, read it from `port`). */
  port?: number;
}

export interface MailServer {
  port: number;
  /** Closes the listener and drops every open connection. */
  stop(): Promise<void>;
  /**
   * While down, new connections get a refusal greeting (`* BYE …` / `-ERR …`) and are closed,
   * as a server does during maintenance; probes then fail at the greeting step.
   */
  setDown(down: boolean): void;
}

const DAY_MS = 86_400_000;

function opensslDate(d: Date): string {
  // YYYYMMDDHHMMSSZ, the form `openssl ca -startdate/-enddate` takes.
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

/**
 * A self-signed certificate for CN=localhost with SANs 127.0.0.1, ::1 and localhost, valid from
 * `notBefore` (default: an hour ago) to `notAfter` (default: 30 days on). Dates in the past give
 * an expired certificate.
 */
export function selfSignedCert(opts: { notBefore?: Date; notAfter?: Date } = {}): TlsKeyPair {
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - 3_600_000);
  const notAfter = opts.notAfter ?? new Date(now + 30 * DAY_MS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-cert-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256',
        'policy = p', 'copy_extensions = copy', '[p]', 'commonName = supplied', ''].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), '01\n');
    execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost'],
      { cwd: dir, stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      ['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'key.pem', '-in', 'req.csr', '-out', 'cert.pem', '-notext',
        '-startdate', opensslDate(notBefore), '-enddate', opensslDate(notAfter)],
      { cwd: dir, stdio: 'ignore' },
    );
    return { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One client connection read line by line; can switch to TLS in place (STARTTLS). */
class LineConnection {
  private buffer = '';

  constructor(
    private socket: net.Socket,
    private readonly onLine: (line: string) => void,
  ) {
    this.attach(socket);
  }

  send(line: string): void {
    if (!this.socket.destroyed) this.socket.write(`${line}\r\n`);
  }

  end(): void {
    this.socket.end();
  }

  startTls(pair: TlsKeyPair): void {
    this.socket.removeAllListeners('data');
    this.buffer = '';
    const secure = new tls.TLSSocket(this.socket, { isServer: true, secureContext: tls.createSecureContext(pair) });
    this.socket = secure;
    this.attach(secure);
  }

  private attach(socket: net.Socket): void {
    // Probes hang up abruptly (timeouts, refused certificates); that is not a server error.
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let end: number;
      while ((end = this.buffer.indexOf('\n')) >= 0 && this.socket === socket) {
        const line = this.buffer.slice(0, end).replace(/\r$/, '');
        this.buffer = this.buffer.slice(end + 1);
        this.onLine(line);
      }
    });
  }
}

type Handler = (socket: net.Socket, down: boolean) => void;

async function listen(opts: MailServerOptions, handler: Handler): Promise<MailServer> {
  let down = false;
  const sockets = new Set<net.Socket>();
  const server = opts.tls
    ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert }, (s) => handler(s, down))
    : net.createServer((s) => handler(s, down));
  server.on('connection', (s: net.Socket) => {
    // Replies go out in several writes; without this, Nagle holds them back ~40 ms per command.
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setDown: (d) => {
      down = d;
    },
  };
}

/** Atoms and quoted strings of an IMAP argument list (no literals). */
function imapArgs(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

export function startImapServer(opts: MailServerOptions = {}): Promise<MailServer> {
  const users = opts.users ?? {};
  return listen(opts, (socket, down) => {
    let encrypted = opts.tls !== undefined;
    const conn: LineConnection = new LineConnection(socket, (line) => {
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return conn.send('* BAD malformed command');
      const [, tag, verb, rest = ''] = m;
      switch (verb!.toUpperCase()) {
        case 'CAPABILITY': {
          const caps = ['IMAP4rev1', ...(opts.starttls && !encrypted ? ['STARTTLS'] : []), 'IDLE'];
          conn.send(`* CAPABILITY ${caps.join(' ')}`);
          return conn.send(`${tag} OK CAPABILITY completed`);
        }
        case 'NOOP':
          return conn.send(`${tag} OK NOOP completed`);
        case 'STARTTLS':
          if (!opts.starttls || encrypted) return conn.send(`${tag} BAD STARTTLS not available`);
          conn.send(`${tag} OK Begin TLS negotiation now`);
          conn.startTls(opts.starttls);
          encrypted = true;
          return;
        case 'LOGIN': {
          const [user, pass] = imapArgs(rest);
          if (user !== undefined && Object.hasOwn(users, user) && users[user] === pass) return conn.send(`${tag} OK LOGIN completed`);
          return conn.send(`${tag} NO [AUTHENTICATIONFAILED] Invalid credentials`);
        }
        case 'LOGOUT':
          conn.send('* BYE logging out');
          conn.send(`${tag} OK LOGOUT completed`);
          return conn.end();
        default:
          return conn.send(`${tag} BAD unknown command`);
      }
    });
    if (down) {
      conn.send('* BYE [UNAVAILABLE] server is down for maintenance');
      return conn.end();
    }
    conn.send(opts.greeting ?? '* OK incidentd test IMAP server ready');
  });
}

export function startPop3Server(opts: MailServerOptions = {}): Promise<MailServer> {
  const users = opts.users ?? {};
  return listen(opts, (socket, down) => {
    let encrypted = opts.tls !== undefined;
    let user: string | undefined;
    const conn: LineConnection = new LineConnection(socket, (line) => {
      const [verb = '', ...args] = line.split(' ');
      const arg = args.join(' ');
      switch (verb.toUpperCase()) {
        case 'CAPA':
          conn.send('+OK capability list follows');
          for (const c of ['USER', ...(opts.starttls && !encrypted ? ['STLS'] : []), 'UIDL', 'IMPLEMENTATION incidentd-test']) conn.send(c);
          return conn.send('.');
        case 'NOOP':
          return conn.send('+OK');
        case 'STLS':
          if (!opts.starttls || encrypted) return conn.send('-ERR STLS not available');
          conn.send('+OK Begin TLS negotiation');
          conn.startTls(opts.starttls);
          encrypted = true;
          return;
        case 'USER':
          user = arg;
          return conn.send('+OK send PASS');
        case 'PASS':
          if (user !== undefined && Object.hasOwn(users, user) && users[user] === arg) return conn.send('+OK logged in');
          user = undefined;
          return conn.send('-ERR [AUTH] invalid user name or password');
        case 'QUIT':
          conn.send('+OK bye');
          return conn.end();
        default:
          return conn.send('-ERR unknown command');
      }
    });
    if (down) {
      conn.send('-ERR [SYS/TEMP] server is down for maintenance');
      return conn.end();
    }
    conn.send(opts.greeting ?? '+OK incidentd test POP3 server ready');
  });
}
