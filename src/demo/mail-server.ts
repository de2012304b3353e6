// Loopback mail servers for `incidentd demo` and the mail probe tests: SMTP, IMAP and POP3 speaking
// just enough of each protocol for the probes (greeting, EHLO/CAPABILITY/CAPA, STARTTLS/STLS, AUTH
// PLAIN/LOGIN or USER/PASS, QUIT/LOGOUT), plain or TLS. Each can be put "down": it then refuses new
// sessions with the protocol's refusal greeting, as a server under maintenance does.
import net from 'node:net';
import tls from 'node:tls';

export interface TlsKeyPair {
  key: string;
  cert: string;
}

export interface MailServerOptions {
  /** Implicit TLS: the handshake comes first (like ports 465 / 993 / 995). */
  tls?: TlsKeyPair;
  /** Offer STARTTLS (SMTP, IMAP) / STLS (POP3) on a plain connection, with this certificate. */
  starttls?: TlsKeyPair;
  /** user name → password. Any other login is refused. Default: nobody can log in. */
  users?: Record<string, string>;
  /** The greeting line sent on connect, as is (default `220 …` / `* OK …` / `+OK …`). */
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
   * While down, new connections get a refusal greeting (`421 …` / `* BYE …` / `-ERR …`) and are
   * closed, as a server does during maintenance; probes then fail at the greeting step.
   */
  setDown(down: boolean): void;
  isDown(): boolean;
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
    isDown: () => down,
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
    conn.send(opts.greeting ?? '* OK incidentd IMAP server ready');
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
          for (const c of ['USER', ...(opts.starttls && !encrypted ? ['STLS'] : []), 'UIDL', 'IMPLEMENTATION incidentd']) conn.send(c);
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
    conn.send(opts.greeting ?? '+OK incidentd POP3 server ready');
  });
}

/**
 * SMTP (RFC 5321) up to authentication: 220 banner, EHLO/HELO with extensions, STARTTLS, AUTH
 * PLAIN and LOGIN, NOOP, RSET, QUIT. Mail transactions are refused (it is a probe peer, not a relay).
 */
export function startSmtpServer(opts: MailServerOptions = {}): Promise<MailServer> {
  const users = opts.users ?? {};
  const hasUsers = Object.keys(users).length > 0;
  const checkLogin = (user: string | undefined, pass: string | undefined) =>
    user !== undefined && Object.hasOwn(users, user) && users[user] === pass;
  const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

  return listen(opts, (socket, down) => {
    let encrypted = opts.tls !== undefined;
    let greeted = false;
    /** AUTH LOGIN in progress: waiting for the user name, then the password. */
    let login: { user?: string } | undefined;
    const conn: LineConnection = new LineConnection(socket, (line) => {
      if (login) {
        if (line === '*') {
          login = undefined;
          return conn.send('501 5.7.0 authentication cancelled');
        }
        if (login.user === undefined) {
          login.user = unb64(line);
          return conn.send(`334 ${Buffer.from('Password:').toString('base64')}`);
        }
        const ok = checkLogin(login.user, unb64(line));
        login = undefined;
        return conn.send(ok ? '235 2.7.0 authentication successful' : '535 5.7.8 authentication credentials invalid');
      }
      const [verb = '', ...args] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO': {
          if (!args[0]) return conn.send('501 5.5.4 EHLO needs a domain or address');
          greeted = true;
          const ext = ['PIPELINING', '8BITMIME', 'SIZE 10485760'];
          if (opts.starttls && !encrypted) ext.push('STARTTLS');
          if (hasUsers) ext.push('AUTH PLAIN LOGIN');
          conn.send(`250-localhost greets ${args[0]}`);
          ext.forEach((e, i) => conn.send(`250${i === ext.length - 1 ? ' ' : '-'}${e}`));
          return;
        }
        case 'HELO':
          greeted = true;
          return conn.send('250 localhost');
        case 'NOOP':
          return conn.send('250 2.0.0 OK');
        case 'RSET':
          return conn.send('250 2.0.0 OK');
        case 'STARTTLS':
          if (!opts.starttls || encrypted) return conn.send('502 5.5.1 STARTTLS not available');
          conn.send('220 2.0.0 ready to start TLS');
          conn.startTls(opts.starttls);
          encrypted = true;
          greeted = false; // RFC 3207: the client starts over with EHLO
          return;
        case 'AUTH': {
          if (!greeted) return conn.send('503 5.5.1 send EHLO first');
          if (!hasUsers) return conn.send('502 5.5.1 AUTH not available');
          const mechanism = (args[0] ?? '').toUpperCase();
          if (mechanism === 'PLAIN' && args[1]) {
            const [, user, pass] = unb64(args[1]).split('\0');
            return conn.send(checkLogin(user, pass) ? '235 2.7.0 authentication successful' : '535 5.7.8 authentication credentials invalid');
          }
          if (mechanism === 'LOGIN') {
            login = {};
            return conn.send(`334 ${Buffer.from('Username:').toString('base64')}`);
          }
          return conn.send('504 5.5.4 unrecognised authentication mechanism');
        }
        case 'MAIL':
        case 'RCPT':
        case 'DATA':
          return conn.send('554 5.7.1 this server accepts no mail');
        case 'QUIT':
          conn.send('221 2.0.0 bye');
          return conn.end();
        default:
          return conn.send('500 5.5.2 command not recognised');
      }
    });
    if (down) {
      conn.send('421 4.3.2 service not available, closing transmission channel');
      return conn.end();
    }
    conn.send(opts.greeting ?? '220 localhost ESMTP incidentd');
  });
}
