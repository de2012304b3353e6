// SNMP trap receiver: v1, v2c and v3 traps and informs on a UDP port (net-snmp's Receiver) become
// signals (see ./snmp-trap/mapping.ts for which). net-snmp's authorizer checks the community or
// user; what it refuses and what does not decode is counted and logged, never thrown. An inform is
// answered only once its signals are durable (emit resolved): a sender that gets no answer retries.
import dgram from 'node:dgram';
import net from 'node:net';
import type { SnmpTrapConfig, SnmpTrapUser } from './snmp-trap/config.js';
import type { Signal, TargetRef } from '../domain/signal.js';
import { snmp, type V3User } from '../probe-kinds/snmp/net-snmp.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { addressTarget, decodeTrap, MalformedTrapError, trapSignals } from './snmp-trap/mapping.js';
import {
  holdInformResponses,
  RESPONSE_AUTH_FAILURE,
  RESPONSE_COULD_NOT_DECRYPT,
  snmpReceiverApi,
  type HeldResponse,
  type Notification,
  type Receiver,
  type ReceiverError,
} from './snmp-trap/net-snmp.js';

export interface SnmpTrapStats {
  /** Datagrams that reached the receiver (every one of the three below, plus discovery and reports). */
  received: number;
  /** Traps and informs turned into signals. */
  accepted: number;
  /** Dropped: unknown community or user, wrong v3 keys. */
  rejectedAuth: number;
  /** Dropped: not SNMP, truncated, or not a notification. */
  malformed: number;
}

export interface SnmpTrapSourceOptions {
  config: SnmpTrapConfig;
  /**
   * Where signals go: the incident manager's alert intake, which resolves once they are durable (in
   * the intake journal). An inform is answered only then; if it rejects, the inform is not answered.
   */
  emit: (signals: Signal[]) => Promise<void>;
  clock: Clock;
  logger: Logger;
  /** The probe target whose host is this address, so a trap lands on the target `probes/` watches. */
  targetByHost?: ((ip: string) => TargetRef | undefined) | undefined;
}

/** The UDP port could not be bound (in use, or below 1024 without the privilege). */
export class SnmpTrapListenError extends IncidentdError {}

export class SnmpTrapSource {
  private receiver: Receiver | null = null;
  private socket: dgram.Socket | null = null;
  private informs: { take(): HeldResponse | null } | null = null;
  /** stop() was called: notifications still arriving are neither taken nor answered. */
  private closing = false;
  private readonly counts: SnmpTrapStats = { received: 0, accepted: 0, rejectedAuth: 0, malformed: 0 };
  private readonly pending = new Set<Promise<void>>();
  private readonly logger: Logger;

  constructor(private readonly opts: SnmpTrapSourceOptions) {
    this.logger = opts.logger.child({ component: 'snmp-trap' });
  }

  /** Binds the UDP port; resolves with the port once traps can arrive. */
  async start(): Promise<{ port: number }> {
    if (this.receiver) throw new IncidentdError('SNMP trap receiver is already started');
    const { config } = this.opts;
    const sockets: dgram.Socket[] = [];
    const receiver = snmpReceiverApi.createReceiver(
      {
        port: config.port,
        address: config.host,
        transport: net.isIPv6(config.host) ? 'udp6' : 'udp4',
        includeAuthentication: true,
        dgramModule: {
          createSocket: (type) => {
            const s = dgram.createSocket(type);
            sockets.push(s);
            return s;
          },
        },
      },
      (error, notification) => this.onCallback(error, notification),
    );
    const socket = sockets[0];
    if (!socket) throw new IncidentdError('net-snmp receiver did not open a socket');
    try {
      this.informs = holdInformResponses(receiver);
    } catch (err) {
      receiver.close();
      throw err;
    }
    const authorizer = receiver.getAuthorizer();
    for (const c of config.communities) authorizer.addCommunity(c);
    for (const u of config.users) authorizer.addUser(v3User(u));

    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        receiver.close();
        const hint =
          err.code === 'EACCES'
            ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE; use the default 1162'
            : err.code === 'EADDRINUSE'
              ? 'another process (snmptrapd?) holds it; stop it or choose another snmp_traps.port'
              : 'check snmp_traps.host and snmp_traps.port';
        reject(new SnmpTrapListenError(`cannot listen for SNMP traps on ${config.host}:${config.port}: ${err.message}; ${hint}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.once('listening', () => {
        socket.off('error', onError);
        resolve();
      });
    });
    this.receiver = receiver;
    this.socket = socket;
    const port = socket.address().port;
    this.logger.info({ host: config.host, port, communities: config.communities.length, users: config.users.length }, 'listening for SNMP traps');
    return { port };
  }

  /**
   * Takes no more notifications, waits until every accepted one has been handed over (and its
   * inform answered), then closes the socket.
   */
  async stop(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.pending]);
    const receiver = this.receiver;
    const socket = this.socket;
    this.receiver = null;
    this.socket = null;
    this.informs = null;
    if (receiver && socket) await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }

  stats(): SnmpTrapStats {
    return { ...this.counts };
  }

  private onCallback(error: ReceiverError | null, notification: Notification | null): void {
    if (error) {
      this.onError(error);
      return;
    }
    if (!notification) return;
    // Taken at once, whatever follows: the receiver held it for this notification only.
    const answer = this.informs?.take() ?? null;
    if (this.closing) {
      this.logger.debug({ sender: notification.rinfo.address }, 'SNMP notification arrived while stopping; not taken (an inform is retried by its sender)');
      return;
    }
    this.counts.received++;
    const sender = notification.rinfo.address;
    let signals: Signal[];
    try {
      const trap = decodeTrap(notification.pdu, sender);
      const target =
        this.opts.targetByHost?.(trap.sender) ??
        addressTarget(trap.sender, this.opts.config.target.kind, this.site());
      signals = trapSignals(trap, { target, labels: this.opts.config.labels, now: this.opts.clock.now() });
    } catch (err) {
      // Thrown here it would be an uncaught exception in the socket's handler: count and go on.
      // An inform among them stays unanswered: an answer would say it was stored.
      this.counts.malformed++;
      if (err instanceof MalformedTrapError) this.logger.warn({ sender, reason: err.message }, 'dropped a malformed SNMP notification');
      else this.logger.error({ err, sender }, 'could not map an SNMP notification to signals; dropped');
      return;
    }
    this.counts.accepted++;
    this.logger.debug({ sender, trap: signals[0]?.labels.trap }, 'SNMP trap received');
    const p = this.opts
      .emit(signals)
      .then(
        () => {
          if (answer) this.answer(answer);
        },
        (err: unknown) => {
          if (answer) {
            this.logger.warn({ err, sender, trap: signals[0]?.labels.trap }, 'could not store an SNMP inform; not answered, so its sender sends it again');
          } else {
            this.logger.error({ err, sender, trap: signals[0]?.labels.trap }, 'could not store an SNMP trap; it is lost (informs are retried, traps are not)');
          }
        },
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Sends an inform's held Response now that its signals are stored. */
  private answer(held: HeldResponse): void {
    try {
      held.socket.send(held.bytes, held.rinfo.port, held.rinfo.address, (err) => {
        if (err) this.logger.warn({ err, sender: held.rinfo.address }, 'could not answer an SNMP inform; its sender sends it again');
      });
    } catch (err) {
      // The socket is already closed; the sender's retry reaches the next start.
      this.logger.warn({ err, sender: held.rinfo.address }, 'could not answer an SNMP inform; its sender sends it again');
    }
  }

  private onError(error: ReceiverError): void {
    if (!error.rinfo) {
      // A socket error after listening (the bind error is handled in start).
      if (this.socket) this.logger.error({ err: error }, 'SNMP trap socket error');
      return;
    }
    this.counts.received++;
    const sender = error.rinfo.address;
    if (isAuthFailure(error)) {
      this.counts.rejectedAuth++;
      this.logger.warn({ sender, reason: authFailureReason(error) }, 'dropped an SNMP trap with an unknown community or user, or wrong keys; add it to snmp_traps if the sender is yours');
    } else {
      this.counts.malformed++;
      this.logger.warn({ sender, reason: error.message }, 'dropped a malformed SNMP packet');
    }
  }

  private site(): string {
    const label = this.opts.config.target.siteLabel;
    return label === null ? '' : (this.opts.config.labels[label] ?? '');
  }
}

/**
 * Why a trap was not believed, without the community it carried: a community is a password, and a
 * near miss (a typo of the real one) in the log would give it away. v3 user names are not secret.
 */
function authFailureReason(error: ReceiverError): string {
  if (error.message.startsWith('Local community not found')) return 'the community did not match any in snmp_traps.communities';
  return error.message;
}

function isAuthFailure(error: ReceiverError): boolean {
  if (error.name === 'RequestFailedError') return true;
  return error.name === 'ResponseInvalidError' && (error.code === RESPONSE_AUTH_FAILURE || error.code === RESPONSE_COULD_NOT_DECRYPT);
}

function v3User(u: SnmpTrapUser): V3User {
  const user: V3User = { name: u.name, level: snmp.SecurityLevel[u.level] };
  if (u.level !== 'noAuthNoPriv') {
    user.authProtocol = snmp.AuthProtocols[u.authProtocol];
    user.authKey = u.authKey ?? '';
  }
  if (u.level === 'authPriv') {
    user.privProtocol = snmp.PrivProtocols[u.privProtocol];
    user.privKey = u.privKey ?? '';
  }
  return user;
}
