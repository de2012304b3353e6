// What every SNMP-based kind shares: the connection fields of its schema, one session per run
// with timeouts fitted into the run's deadline, GET and subtree WALK as promises, varbind values
// turned into plain numbers and strings, and failures turned into messages that say what to do.
import net from 'node:net';
import { z } from 'zod';
import type { Value } from '../../domain/signal.js';
import { IncidentdError } from '../../shared/errors.js';
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../../domain/check.js';
import { abortMessage, msSince, ProbeTimeoutError, startDeadline } from '../deadline.js';
import type { ProbeContext } from '../types.js';
import { hostPort } from '../tcp.js';
import { ObjectType, objectTypeName, snmp, type Session, type V3User, type Varbind } from './net-snmp.js';
import { inspect } from 'node:util';

/** A walk returning more rows than this is cut short with a fail: walk a narrower subtree. */
export const MAX_WALK_ROWS = 10_000;
const MAX_ARC = 4_294_967_295;

// ---------------------------------------------------------------------------------------------
// Schema

function isOid(text: string): boolean {
  const body = text.startsWith('.') ? text.slice(1) : text;
  if (!/^[0-2](\.(0|[1-9]\d{0,9}))+$/.test(body)) return false;
  return body.split('.').every((arc) => Number(arc) <= MAX_ARC);
}

/** A dotted numeric OID; a leading dot is accepted (as net-snmp tools print them). */
export const oidSchema = z
  .string()
  .refine(isOid, {
    error: (iss) =>
      `must be a numeric OID like 1.3.6.1.2.1.1.3.0 (MIB names are not resolved), got ${JSON.stringify(iss.input)}`,
  })
  .describe('Numeric OID, e.g. `1.3.6.1.2.1.1.3.0`.');

/** The OID without a leading dot, as net-snmp and the agent print it. */
export function normaliseOid(oid: string): string {
  return oid.startsWith('.') ? oid.slice(1) : oid;
}

export const AUTH_PROTOCOLS = ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export const PRIV_PROTOCOLS = ['des', 'aes', 'aes256b', 'aes256r'] as const;
const LEVELS = ['noAuthNoPriv', 'authNoPriv', 'authPriv'] as const;

const userSchema = z
  .strictObject({
    name: z.string().min(1).max(32).describe('SNMPv3 user (security) name.'),
    level: z
      .enum(LEVELS)
      .default('authPriv')
      .describe('Security level: `authPriv` (authenticated and encrypted, default), `authNoPriv` or `noAuthNoPriv`.'),
    auth_protocol: z
      .enum(AUTH_PROTOCOLS)
      .default('sha')
      .describe('Authentication digest: md5, sha (SHA-1, default), sha224, sha256, sha384 or sha512.'),
    // RFC 3414 section 11.2: passphrases shorter than 8 characters are not allowed.
    auth_key: z.string().min(8).optional().describe('Authentication passphrase, at least 8 characters. Needed for authNoPriv and authPriv.'),
    priv_protocol: z
      .enum(PRIV_PROTOCOLS)
      .default('aes')
      .describe('Privacy cipher: aes (AES-128, default), aes256b, aes256r (Cisco) or des (needs node --openssl-legacy-provider).'),
    priv_key: z.string().min(8).optional().describe('Privacy passphrase, at least 8 characters. Needed for authPriv.'),
  })
  .superRefine((u, ctx) => {
    if (u.level !== 'noAuthNoPriv' && u.auth_key === undefined)
      ctx.addIssue({ code: 'custom', path: ['auth_key'], message: `auth_key is required for level ${u.level}` });
    if (u.level === 'authPriv' && u.priv_key === undefined)
      ctx.addIssue({ code: 'custom', path: ['priv_key'], message: 'priv_key is required for level authPriv' });
  })
  .describe('SNMPv3 user; only with version "3".');

/** The connection fields every SNMP-based kind takes. Spread into the kind's own strictObject. */
export const connectionShape = {
  host: z.string().min(1).describe('Host name or IP address of the SNMP agent, e.g. `ap-3.example.org` or `10.0.0.21`.'),
  port: z.number().int().min(1).max(65535).default(161).describe('UDP port of the agent, 1-65535. Default 161.'),
  version: z.enum(['1', '2c', '3']).default('2c').describe('SNMP version: "1", "2c" (default) or "3". Quote it in YAML.'),
  community: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Community for versions 1 and 2c. Default `public`. Not allowed with version "3".'),
  user: userSchema.optional(),
  retries: z
    .number()
    .int()
    .min(0)
    .max(5)
    .default(1)
    .describe('Resends of an unanswered request, 0-5. Default 1. The check timeout is shared among the tries.'),
};

export type SnmpConnection = {
  host: string;
  // `| undefined`: zod's output for an optional field is `key?: T | undefined`.
  port?: number | undefined;
  version?: '1' | '2c' | '3' | undefined;
  community?: string | undefined;
  user?: z.output<typeof userSchema> | undefined;
  retries?: number | undefined;
};

/** Cross-field rules of the connection fields; use as the kind schema's superRefine. */
export function checkConnection(spec: SnmpConnection, ctx: z.RefinementCtx): void {
  const version = spec.version ?? '2c';
  if (version === '3') {
    if (spec.user === undefined)
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'version "3" needs a user: { name, auth_key, priv_key }' });
    if (spec.community !== undefined)
      ctx.addIssue({ code: 'custom', path: ['community'], message: 'community is for versions "1" and "2c"; version "3" uses user' });
  } else if (spec.user !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['user'], message: `user is for version "3"; version "${version}" uses community` });
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Something went wrong talking to the agent; `message` is fit for a fail result. */
export class SnmpError extends IncidentdError {}

/**
 * Nothing came back: wrong credentials, nothing listening, the host is down, its name does not
 * resolve, or the run's deadline passed.
 */
export class SnmpNoAnswerError extends SnmpError {}

/** The agent does not have the OID (noSuchObject, noSuchInstance, v1 noSuchName). */
export class SnmpNoSuchOidError extends SnmpError {
  constructor(
    readonly where: string,
    readonly oid: string,
    readonly why: string,
  ) {
    super(`${where}: ${oid} does not exist on the agent (${why}); check the OID, or whether this device implements that MIB`);
  }
}

/** The agent answered with something the kind cannot use (an unexpected type, a bad value). */
export class SnmpUnexpectedValueError extends SnmpError {}

// ---------------------------------------------------------------------------------------------
// Values

/** Counter64 and other big unsigned integers arrive as big-endian Buffers. */
function bufferToBigInt(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : BigInt(`0x${buf.toString('hex')}`);
}

/** True when `buf` is text a person can read: valid UTF-8 without control characters. */
function isPrintable(buf: Buffer): boolean {
  const text = buf.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(buf)) return false;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

/** Octet strings as text when printable (trailing NULs dropped, as printers pad), else hex. */
export function octetsToString(buf: Buffer): string {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  const trimmed = buf.subarray(0, end);
  return isPrintable(trimmed) ? trimmed.toString('utf8') : buf.toString('hex');
}

/** True for the SNMP types that hold integers (counters, gauges, timeticks included). */
export function isNumericType(type: number): boolean {
  return (
    type === ObjectType.Integer ||
    type === ObjectType.Counter32 ||
    type === ObjectType.Gauge32 ||
    type === ObjectType.TimeTicks ||
    type === ObjectType.Counter64
  );
}

export function isCounterType(type: number): boolean {
  return type === ObjectType.Counter32 || type === ObjectType.Counter64;
}

/** The varbind's value as an exact integer (Counter64 included); undefined for non-integer types. */
/** net-snmp gives strings, numbers or null here; anything else is shown as its structure. */
function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return inspect(v);
}

export function varbindBigInt(vb: Varbind): bigint | undefined {
  if (!isNumericType(vb.type)) return undefined;
  if (Buffer.isBuffer(vb.value)) return bufferToBigInt(vb.value);
  if (typeof vb.value === 'number' && Number.isInteger(vb.value)) return BigInt(vb.value);
  if (typeof vb.value === 'bigint') return vb.value;
  return undefined;
}

/** The varbind's value as a number, or undefined when it is not an integer type. */
export function varbindNumber(vb: Varbind): number | undefined {
  const n = varbindBigInt(vb);
  return n === undefined ? undefined : Number(n);
}

/**
 * A varbind as a signal value: numbers for integer, counter, gauge and timeticks types, strings for
 * octet strings (printable, else hex), OIDs and IP addresses, booleans for Boolean.
 */
export function varbindValue(vb: Varbind): Value {
  const n = varbindNumber(vb);
  if (n !== undefined) return n;
  switch (vb.type) {
    case ObjectType.OctetString:
    case ObjectType.Opaque:
      return Buffer.isBuffer(vb.value) ? octetsToString(vb.value) : scalarText(vb.value);
    case ObjectType.Boolean:
      return vb.value === true;
    case ObjectType.Null:
      return '';
    default:
      return Buffer.isBuffer(vb.value) ? vb.value.toString('hex') : scalarText(vb.value);
  }
}

/** True when a varbind carries noSuchObject, noSuchInstance or endOfMibView instead of a value. */
export function isVarbindException(vb: Varbind): boolean {
  return vb.type === ObjectType.NoSuchObject || vb.type === ObjectType.NoSuchInstance || vb.type === ObjectType.EndOfMibView;
}

/** `suffix` of `oid` below `base` (e.g. `2.1` for base 1.3.6.1.2.1.2.2.1.2 and its row 2.1), or undefined. */
export function oidSuffix(base: string, oid: string): string | undefined {
  return oid.startsWith(`${base}.`) ? oid.slice(base.length + 1) : undefined;
}

function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

// ---------------------------------------------------------------------------------------------
// Session

export interface SnmpClientOptions {
  /** The whole run's budget; each request gets its share so that all tries end within it. */
  timeoutMs: number;
  /** The run's deadline; aborting closes the session and fails what is outstanding. */
  signal: AbortSignal;
}

function describeVersion(version: string): string {
  return version === '3' ? 'SNMPv3' : `SNMPv${version}`;
}

function toV3User(u: NonNullable<SnmpConnection['user']>): V3User {
  return {
    name: u.name,
    level: snmp.SecurityLevel[u.level],
    authProtocol: u.level === 'noAuthNoPriv' ? undefined : snmp.AuthProtocols[u.auth_protocol],
    authKey: u.auth_key,
    privProtocol: u.level === 'authPriv' ? snmp.PrivProtocols[u.priv_protocol] : undefined,
    privKey: u.priv_key,
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 10) / 100}s`;
}

/**
 * One SNMP session for one probe run. Open with `SnmpClient.open`, always `close()` in a finally.
 */
export class SnmpClient {
  readonly where: string;
  readonly versionLabel: string;
  private readonly session: Session;
  private readonly waitMs: number;
  private readonly onAbort: () => void;
  private closed = false;

  private constructor(
    private readonly spec: SnmpConnection,
    private readonly options: SnmpClientOptions,
  ) {
    const version = spec.version ?? '2c';
    const port = spec.port ?? 161;
    const retries = spec.retries ?? 1;
    this.where = hostPort(spec.host, port);
    this.versionLabel = describeVersion(version);
    // All tries of one request end a little before the run's deadline, so a silent agent is
    // reported as "no answer" (with the hint) rather than as a bare timeout.
    const perTry = Math.max(20, Math.floor((options.timeoutMs * 0.9) / (retries + 1)));
    this.waitMs = perTry * (retries + 1);
    const common = {
      port,
      retries,
      timeout: perTry,
      backoff: 1,
      transport: net.isIPv6(spec.host) ? ('udp6' as const) : ('udp4' as const),
    };
    this.session =
      version === '3'
        ? snmp.createV3Session(spec.host, toV3User(spec.user!), { ...common, version: snmp.Version3 })
        : snmp.createSession(spec.host, spec.community ?? 'public', {
            ...common,
            version: version === '1' ? snmp.Version1 : snmp.Version2c,
          });
    // Socket errors also fail the outstanding request; the listener keeps them from crashing us.
    this.session.on('error', () => undefined);
    this.onAbort = () => this.close();
    if (options.signal.aborted) this.close();
    else options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  static open(spec: SnmpConnection, options: SnmpClientOptions): SnmpClient {
    return new SnmpClient(spec, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.signal.removeEventListener('abort', this.onAbort);
    try {
      this.session.close();
    } catch {
      // Already closed by a socket error.
    }
  }

  /** The failure of a request as an SnmpError whose message names the target and what to check. */
  private failure(err: Error, oids: string[]): SnmpError {
    const hint = this.versionLabel === 'SNMPv3' ? 'wrong user or keys, or host down?' : 'wrong community or host down?';
    if (this.options.signal.aborted) {
      // The run's deadline passed with the request unanswered: the agent was silent, as below. On a
      // busy event loop the deadline's timer can fire before the last try's own.
      if (this.options.signal.reason instanceof ProbeTimeoutError) {
        return new SnmpNoAnswerError(`${this.where}: no answer within ${seconds(this.options.timeoutMs)} (${hint})`);
      }
      return new SnmpNoAnswerError(`${this.where}: ${abortMessage(this.options.signal, this.options.timeoutMs)}`);
    }
    // A plain boolean test: net-snmp's error classes look alike to TypeScript, so no narrowing.
    const is = (ctor: new (...args: never[]) => Error): boolean => err instanceof ctor;
    if (is(snmp.RequestTimedOutError)) return new SnmpNoAnswerError(`${this.where}: no answer within ${seconds(this.waitMs)} (${hint})`);
    if (is(snmp.RequestFailedError)) {
      const code = (err as { status?: number }).status;
      const status = code === undefined ? undefined : snmp.ErrorStatus[code];
      // An SNMPv1 agent reports a missing OID as noSuchName for the whole request.
      // net-snmp names the offending OID in the message: "NoSuchName: 1.3.6.1…".
      if (status === 'NoSuchName') {
        const named = /^NoSuchName: (\S+)$/.exec(err.message)?.[1];
        return new SnmpNoSuchOidError(this.where, named ?? oids.join(', '), 'noSuchName');
      }
      return new SnmpError(`${this.where}: the agent refused the request: ${err.message}`);
    }
    if (is(snmp.ResponseInvalidError)) {
      return new SnmpError(`${this.where}: ${this.versionLabel} response not accepted: ${err.message} (check user name, protocols and keys)`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new SnmpNoAnswerError(`${this.where}: cannot resolve host name (${code}); check the spelling and DNS`);
    return new SnmpError(`${this.where}: ${err.message}`);
  }

  /** GETs `oids` in one request. Any OID the agent does not have fails the whole call, naming it. */
  get(oids: string[]): Promise<Varbind[]> {
    const wanted = oids.map(normaliseOid);
    return new Promise((resolve, reject) => {
      try {
        this.session.get(wanted, (err, varbinds) => {
          if (err) return reject(this.failure(err, wanted));
          const list = varbinds ?? [];
          for (let i = 0; i < wanted.length; i++) {
            const vb = list[i];
            if (!vb) return reject(new SnmpUnexpectedValueError(`${this.where}: the agent answered without a value for ${wanted[i]}`));
            if (isVarbindException(vb)) return reject(new SnmpNoSuchOidError(this.where, wanted[i]!, objectTypeName(vb.type)));
          }
          resolve(list);
        });
      } catch (err) {
        reject(this.failure(err as Error, wanted));
      }
    });
  }

  /**
   * Every varbind below `oid` (GETNEXT for v1, GETBULK otherwise), in order. An empty subtree is
   * an empty list. Stops, rather than loops, when an agent repeats or goes backwards.
   */
  walk(oid: string): Promise<Varbind[]> {
    const base = normaliseOid(oid);
    return new Promise((resolve, reject) => {
      const rows: Varbind[] = [];
      let last = base;
      let tooMany = false;
      const feed = (varbinds: Varbind[]): boolean => {
        for (const vb of varbinds) {
          if (isVarbindException(vb) || oidSuffix(base, vb.oid) === undefined) return true;
          if (compareOids(vb.oid, last) <= 0) return true;
          if (rows.length >= MAX_WALK_ROWS) {
            tooMany = true;
            return true;
          }
          rows.push(vb);
          last = vb.oid;
        }
        return false;
      };
      try {
        this.session.subtree(base, 20, feed, (err) => {
          if (err) return reject(this.failure(err, [base]));
          if (tooMany)
            return reject(new SnmpError(`${this.where}: walking ${base} returned more than ${MAX_WALK_ROWS} rows; walk a narrower OID`));
          resolve(rows);
        });
      } catch (err) {
        reject(this.failure(err as Error, [base]));
      }
    });
  }
}

/** The message of an error thrown while querying: SnmpError messages as they are, others wrapped. */
export function snmpFailureMessage(err: unknown, where: string): string {
  if (err instanceof SnmpError) return err.message;
  return `${where}: ${err instanceof Error ? err.message : String(err)}`;
}

/** What an SNMP kind's body works with inside runSnmp. */
export interface SnmpRun {
  client: SnmpClient;
  /**
   * Filled as the body reads; a fail result still carries what was read before the error.
   * `answered` is set: true when the agent answered, false when a query got no answer.
   */
  values: Record<string, Value>;
  /** Milliseconds since the run started. */
  // Function properties, not methods: they are closures, and callers destructure them.
  elapsed: () => number;
  result: (status: 'ok' | 'fail', message: string) => CheckResult;
}

/**
 * The frame every SNMP kind runs in: the run's deadline, one client, the values read so far, and
 * any query error turned into a fail result naming the agent. The client and deadline are always
 * released.
 */
export async function runSnmp(
  spec: SnmpConnection,
  ctx: ProbeContext,
  body: (run: SnmpRun) => Promise<CheckResult>,
): Promise<CheckResult> {
  const deadline = startDeadline(ctx);
  const started = performance.now();
  const elapsed = () => msSince(started);
  const client = SnmpClient.open(spec, { timeoutMs: ctx.timeoutMs, signal: deadline.signal });
  // Every body starts by querying the agent; a result it returns means the agent answered.
  const values: Record<string, Value> = { answered: true };
  const result = (status: 'ok' | 'fail', message: string): CheckResult => ({ status, message, latencyMs: elapsed(), values });
  try {
    return await body({ client, values, elapsed, result });
  } catch (err) {
    // A query broke off: the values read so far are not a full reading, so rules that do not
    // match them clear nothing (Signal.partial). A device that answered with something unusable
    // (a missing OID, a wrong type) did answer.
    values.answered = !(err instanceof SnmpNoAnswerError);
    return { ...result('fail', snmpFailureMessage(err, client.where)), partial: true };
  } finally {
    client.close();
    deadline.dispose();
  }
}
