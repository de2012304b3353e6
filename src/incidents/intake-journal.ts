// The intake journal: the write-ahead queue on disk in front of the incident manager. An alert
// request is answered 2xx once its signals are appended here and fsynced; the manager commits them
// to the store afterwards, in larger batches, and records in the same store transaction how far
// into the journal it has got (the "intake mark"). After a crash, whatever the journal holds beyond
// the mark is committed again at start-up, so an answered request loses nothing and nothing is
// committed twice.
//
// Files: <dir>/id (this journal's name in the store's marks) and segments intake-<first lsn>.log,
// each a run of records [u32 length][u32 crc32][JSON], the JSON either {"lsn":n,"signals":[...]}
// or, for a request to an alert endpoint, {"lsn":n,"request":{type,at,source},"body":<the body as
// received>}, turned into signals again when read (src/sources/requests.ts), and <dir>/lock
// (a SQLite file held locked by the one process that uses the journal; the kernel lets go when that
// process ends, kill -9 included). Appends made while an fsync runs are
// written and synced together (group commit). A small round (a stream of small requests) is written
// on the event loop, once per turn of it, for what that turn took in; larger rounds go to the libuv
// pool (see INLINE_MAX_BYTES). A segment is deleted once the mark has passed its last record.
//
// The segment being written is filled with zeros ahead of its records, in the background (see
// PREFILL_MIN_BYTES): a synced write into blocks the file already has needs no metadata commit,
// where an append that grows the file does. Records are written at their offset; at open, zeros
// after the last record are the prefilled rest, not a torn record.
//
// Lsns never go backwards: the next one follows the highest on disk (a segment's name counts, so
// an empty segment keeps the count) and the store's mark (advanceTo), whichever is higher.
//
// A write that fails (a full disk) is answered with an error and its partial bytes are cut off
// (ftruncate back to the last whole record) before anything else is written; until that has
// worked, appends fail at once. A record is therefore only ever followed, in its file, by whole
// records, and at open a damaged record followed by readable ones is skipped, never cut off with them.
import { randomUUID } from 'node:crypto';
import { constants, mkdirSync, writevSync, openSync, closeSync, fsyncSync, readdirSync, readFileSync, truncateSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { open, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Signal } from '../domain/signal.js';
import { requestHeaderJson, signalsOfRequest, type ReceivedRequest, type RequestHeader } from '../sources/requests.js';
import { SystemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { IncidentdError, InstanceLockedError } from '../shared/errors.js';
import { tryLock } from '../shared/lock-file.js';
import type { Logger } from '../shared/logger.js';

export class JournalError extends IncidentdError {}

export interface JournalRecord {
  lsn: number;
  signals: Signal[];
}

/** A record as it is on disk: its signals, or the request they are made of (see the top of this file). */
type StoredRecord = JournalRecord | { lsn: number; signals?: undefined; request: RequestHeader; body: unknown };

export interface IntakeJournalOptions {
  dir: string;
  logger: Logger;
  /** A segment is closed (and can be deleted once applied) when it grows past this; default 8 MiB. */
  segmentBytes?: number | undefined;
  /**
   * For rounds written on the thread pool (larger than INLINE_MAX_BYTES): while appends come in
   * less than this apart, the next fsync waits this long for more of them (a lone append is written
   * at once); default 1 ms. Each fsync costs the disk and CPU, so one should cover many appends.
   */
  groupWindowMs?: number;
  /** Told of every group write (for metrics): how many records, how long until on disk. */
  hooks?: JournalHooks;
  /** Runs the group window's timer; the system clock by default. */
  clock?: Clock;
  /** A write on the event loop slower than this sends writes to the pool for a while; default 20 ms. */
  slowInlineMs?: number;
}

export interface JournalHooks {
  written?(records: number, seconds: number): void;
  /** A group write failed; its requests were answered with an error. */
  failed?(records: number): void;
}

interface Segment {
  file: string;
  firstLsn: number;
  /** Last lsn written to it; firstLsn - 1 while empty. */
  lastLsn: number;
  /** Bytes of whole records in it. */
  bytes: number;
}

interface Pending {
  lsn: number;
  bytes: Buffer;
  /** Signals in the record: pending() until it is written or has failed. */
  signals: number;
  done: () => void;
  fail: (err: unknown) => void;
}

const HEADER = 8;
/** Queued bytes that are written at once, without waiting for the group window. */
const GROUP_FLUSH_BYTES = 1024 * 1024;
/**
 * Rounds up to this size are written on the event loop (writevSync), at the end of the turn that
 * queued them, so every request read in that turn shares the write. Handing a write to the libuv
 * pool and back costs more CPU than the write itself on a VM (measured: 136 – 141 µs per synced
 * write against 69 – 80), and its round trip holds every request back: with requests of one alert
 * the pool cost 1.5 – 1.65 times the CPU per alert at 0.6 – 0.66 times the alerts per second
 * (bench:ingest, batch 1; its 1 ms group window made no larger groups than a turn of the event
 * loop does). Larger rounds come with large bodies, when the event loop is busy parsing them: there
 * the pool keeps the write's wait off it. SQLite's synced commits already wait for the disk on the
 * event loop.
 */
const INLINE_MAX_BYTES = 8 * 1024;
/**
 * A write on the event loop slower than this (a slow or overloaded disk) sends the journal's
 * writes to the pool for INLINE_PAUSE_MS, so a bad disk cannot stall the daemon on every alert.
 */
const SLOW_INLINE_MS = 20;
const INLINE_PAUSE_MS = 60_000;
const SEGMENT_RE = /^intake-(\d{16})\.log$/;

function segmentName(firstLsn: number): string {
  return `intake-${String(firstLsn).padStart(16, '0')}.log`;
}

/**
 * Segments are opened with O_DSYNC where the platform has it: each write returns
 * once its data is on disk, one system call per round instead of a write and an fdatasync.
 */
const DSYNC: number | undefined = constants.O_DSYNC;
/** Not O_APPEND: records are written at their offset, into the prefilled zeros. */
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | (DSYNC ?? 0);

/** Makes a new directory entry durable (a file created and fsynced is lost without it). */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The segment being written is prefilled with zeros ahead of its records, in steps that double from
 * PREFILL_MIN_BYTES to PREFILL_MAX_BYTES (a daemon that takes few alerts writes few zeros), up to
 * the segment size. On ext4 a synced append that grows the file commits the file's new size
 * through the filesystem journal; a synced write into zeros already on disk is the data alone
 * (measured on the development VM: 30 – 36 against 45 – 58 µs of CPU per 800-byte O_DSYNC write,
 * 144 – 161 against 173 – 210 µs of wall time). The next step starts when less than half a step
 * is left; a round that reaches past the zeros waits for the step being written, or, with none
 * (a full disk, a segment's end), grows the file as before.
 */
const PREFILL_MIN_BYTES = 64 * 1024;
const PREFILL_MAX_BYTES = 1024 * 1024;
/** Zeros for the prefill (written as repeated slices of it) and for the check at open; made at first use. */
let zeroBuffer: Buffer | null = null;
function zeroChunk(): Buffer {
  return (zeroBuffer ??= Buffer.alloc(PREFILL_MIN_BYTES));
}

/** The segment being written, and how far its file holds zeros written ahead of its records. */
interface Current {
  segment: Segment;
  fh: FileHandle;
  /** File size: records up to segment.bytes, zeros after them. */
  prefilled: number;
  /** The step of zeros being written, if any. */
  prefilling: Promise<void> | null;
  /** A step failed (a full disk): this segment grows by its writes from then on. */
  noPrefill: boolean;
}

/** Why writing failed; `torn`: the current file may end in a partial record not yet cut off. */
interface WriteFailure {
  reason: string;
  torn: boolean;
}

export class IntakeJournal {
  private readonly segments: Segment[] = [];
  private current: Current | null = null;
  private nextLsn: number;
  private queue: Pending[] = [];
  private queuedSignals = 0;
  private flushing: Promise<void> | null = null;
  private groupTimer: TimerHandle | null = null;
  private lastAppendAt = 0;
  private queuedBytes = 0;
  private readonly groupWindowMs: number;
  private recoveredRecords: StoredRecord[];
  private closed = false;
  private released = 0;
  private readonly segmentBytes: number;
  /** Set while writes fail; cleared by the next write that succeeds. */
  private failure: WriteFailure | null = null;
  /** performance.now() until which writes go to the pool after a slow one on the event loop. */
  private inlinePausedUntil = 0;
  private slowInlineMs = SLOW_INLINE_MS;

  private constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly logger: Logger,
    recovered: StoredRecord[],
    nextLsn: number,
    segments: Segment[],
    segmentBytes: number,
    groupWindowMs: number,
    private readonly hooks: JournalHooks,
    private readonly clock: Clock,
    private readonly unlock: () => void,
  ) {
    this.groupWindowMs = groupWindowMs;
    this.recoveredRecords = recovered;
    this.nextLsn = nextLsn;
    this.segments = segments;
    this.segmentBytes = segmentBytes;
  }

  /**
   * Opens (creating) the journal in `dir`, for this process alone (InstanceLockedError while
   * another holds it), and reads what it holds. A record torn by a crash in the middle of an
   * append was never acknowledged (its write did not finish): it is cut off, and logged.
   */
  static async open(opts: IntakeJournalOptions): Promise<IntakeJournal> {
    const dir = resolve(opts.dir);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new JournalError(`cannot create the intake journal directory ${dir}: ${(err as Error).message}; set ingest.journal_dir to a writable directory`, { cause: err });
    }
    const lock = tryLock(join(dir, 'lock'));
    if (!lock.ok) {
      throw new InstanceLockedError(
        `another incidentd (${lock.pid === null ? 'pid unknown' : `pid ${lock.pid}`}) holds the intake journal ${dir}; ` +
          'one journal serves one daemon: for several instances use MongoDB (store.type: mongodb) and give each its own ingest.journal_dir',
      );
    }
    try {
      const journal = IntakeJournal.read(dir, opts, lock.release);
      journal.slowInlineMs = opts.slowInlineMs ?? SLOW_INLINE_MS;
      await journal.startSegment();
      // The first step of zeros (64 KiB) before the first append, so it can be written in place.
      await journal.current?.prefilling;
      return journal;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static read(dir: string, opts: IntakeJournalOptions, unlock: () => void): IntakeJournal {
    const { logger } = opts;
    const idFile = join(dir, 'id');
    if (!existsSync(idFile)) {
      writeFileSync(idFile, `${randomUUID()}\n`, { flag: 'wx' });
      syncDir(dir);
    }
    const id = readFileSync(idFile, 'utf8').trim();
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new JournalError(`${idFile} does not hold a journal id; remove the directory only if every alert in it is in the store`);

    const found: Segment[] = readdirSync(dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ file: join(dir, m[0]), firstLsn: Number(m[1]), lastLsn: Number(m[1]) - 1, bytes: 0 }))
      .sort((a, b) => a.firstLsn - b.firstLsn);

    const recovered: StoredRecord[] = [];
    let nextLsn = 1;
    for (const seg of found) {
      nextLsn = Math.max(nextLsn, seg.firstLsn);
      const data = readFileSync(seg.file);
      let at = 0;
      while (at < data.length) {
        const record = readRecord(data, at);
        if (record === null) {
          // The zeros written ahead of the records (PREFILL_MIN_BYTES): the segment ends here.
          if (zerosFrom(data, at)) break;
          const resume = nextRecordAt(data, at, seg.lastLsn);
          if (resume === null) {
            logger.warn(
              { file: seg.file, offset: at, droppedBytes: data.length - at },
              'intake journal ends in a torn record (a crash during an append that was never answered); cutting it off',
            );
            truncateSync(seg.file, at);
            break;
          }
          // Readable records follow, so this one was written whole once: damaged on disk since.
          // The records after it were answered too; the file is kept as it is.
          logger.error(
            { file: seg.file, offset: at, unreadableBytes: resume - at },
            'intake journal holds unreadable bytes followed by readable records (damaged on disk); keeping the readable ones, the alerts in the damaged part are lost',
          );
          at = resume;
          continue;
        }
        recovered.push(record.record);
        seg.lastLsn = record.record.lsn;
        seg.bytes = record.end;
        nextLsn = Math.max(nextLsn, record.record.lsn + 1);
        at = record.end;
      }
    }
    // Empty segments hold nothing; the one named for the next lsn is reused (startSegment), the
    // others (left by older versions) go.
    const segments: Segment[] = [];
    for (const seg of found) {
      if (seg.bytes > 0 || seg.firstLsn === nextLsn) segments.push(seg);
      else unlinkSync(seg.file);
    }
    return new IntakeJournal(id, dir, logger, recovered, nextLsn, segments, opts.segmentBytes ?? 8 * 1024 * 1024, opts.groupWindowMs ?? 1, opts.hooks ?? {}, opts.clock ?? new SystemClock(), unlock);
  }

  /**
   * The records found at open numbered above `after` (the store's mark: the manager replays
   * these), oldest first, each with its signals. A request that its endpoint's normaliser no longer
   * takes (a newer version reads bodies more strictly) yields none: it is logged, and its body is
   * kept in <dir>/unreplayable-<lsn>.json to be posted again.
   */
  takeRecovered(after = 0): JournalRecord[] {
    const stored = this.recoveredRecords;
    this.recoveredRecords = [];
    const out: JournalRecord[] = [];
    for (const r of stored) {
      if (r.lsn <= after) continue;
      out.push(r.signals !== undefined ? r : { lsn: r.lsn, signals: this.replaySignals(r) });
    }
    return out;
  }

  private replaySignals(r: { lsn: number; request: RequestHeader; body: unknown }): Signal[] {
    try {
      return signalsOfRequest(r.request, r.body);
    } catch (err) {
      const file = join(this.dir, `unreplayable-${r.lsn}.json`);
      writeFileSync(file, `${JSON.stringify({ request: r.request, body: r.body }, null, 2)}\n`);
      this.logger.error(
        { err, lsn: r.lsn, source: r.request.source?.id, file },
        'an alert request in the intake journal no longer turns into signals (this version reads its endpoint\'s bodies differently); its body is kept in the file named here, post it again once fixed',
      );
      return [];
    }
  }

  /**
   * The store has recorded everything up to `mark` from this journal: lsns continue above it even
   * when the files on disk end lower (segments deleted by hand or by an older version's bug).
   * Called before the first append.
   */
  async advanceTo(mark: number): Promise<void> {
    if (mark < this.nextLsn) return;
    this.logger.warn({ mark, next: this.nextLsn, dir: this.dir }, 'intake journal files end below the store\'s mark (segments were deleted); numbering continues after the mark');
    this.nextLsn = mark + 1;
    // An empty current segment is started again under the new number, so the files say it too.
    const cur = this.current;
    if (cur && cur.segment.bytes === 0 && !this.flushing && this.queue.length === 0) await this.startSegment();
  }

  /** Segment files on disk and the bytes of records in them (not yet deleted after the store has them). */
  disk(): { segments: number; bytes: number } {
    let bytes = 0;
    for (const seg of this.segments) bytes += seg.bytes;
    return { segments: this.segments.length, bytes };
  }

  /** Signals appended and not yet durable. */
  pending(): number {
    return this.queuedSignals;
  }

  /** Null while writes succeed; else `write failing: <reason>` (for /readyz). */
  health(): string | null {
    return this.failure ? `write failing: ${this.failure.reason}` : null;
  }

  /**
   * health(), after finding out whether writing works again: while writes fail, a small file is
   * written and synced in the directory (and a partial record cut off), so a disk that has room
   * again shows as ready without waiting for an alert.
   */
  async check(): Promise<string | null> {
    const failure = this.failure;
    if (failure === null || this.closed) return this.health();
    while (this.flushing) await this.flushing;
    if (this.failure !== failure) return this.health();
    if (failure.torn) await this.repair(failure);
    if (failure.torn) return this.health();
    const probe = join(this.dir, 'write-check');
    try {
      await writeFile(probe, Buffer.alloc(4096), { flush: true });
      await unlink(probe);
    } catch (err) {
      await unlink(probe).catch(() => undefined);
      failure.reason = reasonOf(err);
      return this.health();
    }
    // Unless a write failed meanwhile.
    if (this.failure === failure) this.failure = null;
    return this.health();
  }

  /**
   * Appends the signals as one record: the request they were made of when given (its body is
   * written as received), else the signals themselves. `durable` resolves once the record is on
   * disk (fsynced); records become durable in lsn order.
   */
  append(signals: Signal[], request?: ReceivedRequest): { lsn: number; durable: Promise<void> } {
    if (this.closed) return { lsn: 0, durable: Promise.reject(new JournalError('the intake journal is closed')) };
    const lsn = this.nextLsn++;
    // Encoded straight into the record's buffer: no second buffer and copy per request.
    let bytes: Buffer;
    if (request) {
      // The body is written from its own string: one string of the whole record would be
      // flattened into a copy of the body first (Buffer.byteLength), on every request.
      const head = `{"lsn":${lsn},"request":${requestHeaderJson(request)},"body":`;
      const headSize = Buffer.byteLength(head, 'utf8');
      const bodySize = Buffer.byteLength(request.body, 'utf8');
      bytes = Buffer.allocUnsafe(HEADER + headSize + bodySize + 1);
      bytes.write(head, HEADER, 'utf8');
      bytes.write(request.body, HEADER + headSize, 'utf8');
      bytes[bytes.length - 1] = 0x7d; // the record's closing }
    } else {
      const json = JSON.stringify({ lsn, signals });
      bytes = Buffer.allocUnsafe(HEADER + Buffer.byteLength(json, 'utf8'));
      bytes.write(json, HEADER, 'utf8');
    }
    bytes.writeUInt32LE(bytes.length - HEADER, 0);
    bytes.writeUInt32LE(crc32(bytes.subarray(HEADER)), 4);
    const count = signals.length;
    const durable = new Promise<void>((done, fail) => this.queue.push({ lsn, bytes, signals: count, done, fail }));
    this.queuedSignals += count;
    this.queuedBytes += bytes.length;
    this.scheduleFlush();
    return { lsn, durable };
  }

  /**
   * A flush in progress takes whatever queues meanwhile. Otherwise a small round is written on the
   * event loop at the end of this turn of it; a larger one goes to the pool at once for a lone
   * append or a large queue, else after the group window, so concurrent requests share one fsync.
   */
  private scheduleFlush(): void {
    const now = performance.now();
    const streaming = now - this.lastAppendAt < this.groupWindowMs;
    this.lastAppendAt = now;
    if (this.flushing || this.groupTimer) {
      if (this.groupTimer && this.queuedBytes >= GROUP_FLUSH_BYTES) this.flushNow();
      return;
    }
    if (this.writesInline(this.queuedBytes, now)) {
      // At the end of this turn of the event loop: the requests it reads after this one join in.
      this.flushing = new Promise<void>((turnEnded) => setImmediate(turnEnded)).then(() => this.flush());
      return;
    }
    if (!streaming || this.queuedBytes >= GROUP_FLUSH_BYTES) this.flushNow();
    else this.groupTimer = this.clock.setTimeout(() => this.flushNow(), this.groupWindowMs);
  }

  private flushNow(): void {
    this.groupTimer?.cancel();
    this.groupTimer = null;
    // Started from a resolved promise: a flush written on the event loop may finish without ever
    // awaiting, and its end (flushing = null) must come after this assignment, not before it.
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  /** Whether a round of `bytes` is written on the event loop (INLINE_MAX_BYTES, SLOW_INLINE_MS). */
  private writesInline(bytes: number, now: number): boolean {
    return bytes <= INLINE_MAX_BYTES && now >= this.inlinePausedUntil;
  }

  /** Writes a round on the event loop; a slow write sends the next ones to the pool for a while. */
  private writeInline(fd: number, buffers: Buffer[], size: number, position: number): void {
    const started = performance.now();
    let written = 0;
    while (written < size) written += writevSync(fd, written === 0 ? buffers : remaining(buffers, written), position + written);
    const ms = performance.now() - started;
    if (ms > this.slowInlineMs) {
      this.inlinePausedUntil = performance.now() + INLINE_PAUSE_MS;
      this.logger.warn(
        { ms: Math.round(ms), pauseS: INLINE_PAUSE_MS / 1000 },
        `an intake journal write held the event loop for ${Math.round(ms)} ms (over ${this.slowInlineMs} ms: a slow disk?); ` +
          `writing on the thread pool for the next ${INLINE_PAUSE_MS / 1000} s`,
      );
    }
  }

  /** Whether release(lsn) would delete a segment (so the commit recording `lsn` must be synced). */
  canRelease(lsn: number): boolean {
    const seg = this.segments[0];
    return seg !== undefined && seg.file !== this.current?.segment.file && seg.lastLsn <= lsn;
  }

  /** Everything up to `lsn` is durably in the store: segments holding nothing newer are deleted. */
  release(lsn: number): void {
    this.released = Math.max(this.released, lsn);
    while (this.segments.length > 0) {
      const seg = this.segments[0]!;
      // The segment being written stays, whatever the mark says.
      if (seg.file === this.current?.segment.file || seg.lastLsn > this.released) break;
      this.segments.shift();
      unlink(seg.file).catch((err: unknown) => this.logger.warn({ err, file: seg.file }, 'cannot delete an applied intake journal segment'));
    }
  }

  /** Waits for appends in flight, then closes the file and gives the directory up. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.groupTimer) this.flushNow();
    while (this.flushing) await this.flushing;
    this.closed = true;
    await this.current?.prefilling;
    await this.current?.fh.close();
    this.current = null;
    this.unlock();
  }

  /**
   * Makes a segment named for the next lsn the current one: the file of that name when one is
   * listed already (empty: found so at open), else a new file.
   */
  private async startSegment(): Promise<void> {
    const file = join(this.dir, segmentName(this.nextLsn));
    const segment = this.segments.find((s) => s.file === file) ?? { file, firstLsn: this.nextLsn, lastLsn: this.nextLsn - 1, bytes: 0 };
    if (segment === this.current?.segment) return;
    const fh = await open(segment.file, WRITE_FLAGS);
    // close() came while the file was opened (advanceTo at start-up, a repair from check()): it
    // closed the old segment only, so this handle is closed here, not left to the garbage collector.
    if (this.closed) {
      await fh.close();
      return;
    }
    try {
      syncDir(this.dir);
    } catch (err) {
      await fh.close();
      throw err;
    }
    // A new file is empty; an empty one found at open holds zeros at most (read() cut off anything else).
    let prefilled: number;
    try {
      prefilled = (await fh.stat()).size;
    } catch (err) {
      await fh.close();
      throw err;
    }
    const previous = this.current;
    this.current = { segment, fh, prefilled, prefilling: null, noPrefill: false };
    if (!this.segments.includes(segment)) this.segments.push(segment);
    this.prefill(this.current);
    await previous?.prefilling;
    await previous?.fh.close();
    // A previous segment without a whole record holds nothing (at most a partial one, never answered).
    if (previous && previous.segment.bytes === 0) {
      this.segments.splice(this.segments.indexOf(previous.segment), 1);
      await unlink(previous.segment.file).catch((err: unknown) => this.logger.warn({ err, file: previous.segment.file }, 'cannot delete an empty intake journal segment'));
    }
    // A segment the mark has already passed can go now.
    this.release(this.released);
  }

  /**
   * After a failed write: cuts the current file back to its last whole record, or failing that
   * moves to a new segment. Until one of them works, `torn` stays set and appends are refused.
   */
  private async repair(failure: WriteFailure): Promise<void> {
    const cur = this.current;
    if (cur) {
      try {
        await cur.prefilling;
        await cur.fh.truncate(cur.segment.bytes);
        await cur.fh.sync();
        cur.prefilled = cur.segment.bytes;
        failure.torn = false;
        return;
      } catch (err) {
        this.logger.error({ err, file: cur.segment.file }, 'cannot cut a partial record off the intake journal; trying a new segment');
      }
    }
    try {
      await this.startSegment();
      failure.torn = false;
    } catch (err) {
      this.logger.error({ err, dir: this.dir }, 'cannot start a new intake journal segment; alerts are refused until the journal is writable');
    }
  }

  /**
   * Starts writing the next step of zeros ahead of the records when less than half a step is left
   * (PREFILL_MIN_BYTES). Rounds below `prefilled` are written meanwhile; a round reaching past it
   * waits. A step that fails (a full disk) is cut off again, so the zeros take no room a record
   * could use, and the segment grows by its writes from then on.
   */
  private prefill(cur: Current): void {
    if (cur.prefilling || cur.noPrefill || this.closed || cur.prefilled >= this.segmentBytes) return;
    const step = Math.min(PREFILL_MAX_BYTES, Math.max(PREFILL_MIN_BYTES, cur.prefilled));
    if (cur.prefilled - cur.segment.bytes >= step / 2) return;
    const from = cur.prefilled;
    const to = Math.min(this.segmentBytes, from + step);
    cur.prefilling = (async () => {
      try {
        const chunk = zeroChunk();
        const zeros: Buffer[] = [];
        for (let left = to - from; left > 0; left -= chunk.length) zeros.push(left >= chunk.length ? chunk : chunk.subarray(0, left));
        await writeAllAt(cur.fh, zeros, to - from, from);
        if (DSYNC === undefined) await cur.fh.datasync();
        cur.prefilled = to;
      } catch (err) {
        cur.noPrefill = true;
        this.logger.warn({ err, file: cur.segment.file }, 'cannot write zeros ahead of the intake journal\'s records (a full disk?); the segment grows by its writes instead (slower synced writes)');
        await cur.fh.truncate(from).catch(() => undefined);
      } finally {
        cur.prefilling = null;
      }
    })();
  }

  /** Answers an append: on disk, or failed with `err`. */
  private settle(p: Pending, err?: unknown): void {
    this.queuedSignals -= p.signals;
    if (err === undefined) p.done();
    else p.fail(err);
  }

  /** Writes and syncs queued records until none are left; one fsync per round. */
  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const round = this.queue;
        this.queue = [];
        this.queuedBytes = 0;
        const failure = this.failure;
        if (failure?.torn) await this.repair(failure);
        if (failure?.torn) {
          // Nothing may land behind a partial record: the next start would cut it off with them.
          this.hooks.failed?.(round.length);
          const refused = new JournalError(`cannot write the intake journal in ${this.dir}: ${failure.reason}; alerts are refused until it is writable`);
          for (const p of round) this.settle(p, refused);
          continue;
        }
        const cur = this.current!;
        try {
          const started = performance.now();
          const buffers = round.map((p) => p.bytes);
          let size = 0;
          for (const b of buffers) size += b.length;
          const at = cur.segment.bytes;
          if (this.writesInline(size, started) && at + size <= cur.prefilled) {
            this.writeInline(cur.fh.fd, buffers, size, at);
          } else {
            // Past the zeros: the step being written comes first, or it would overwrite this round.
            if (at + size > cur.prefilled) await cur.prefilling;
            await writeAllAt(cur.fh, buffers, size, at);
          }
          if (DSYNC === undefined) await cur.fh.datasync();
          this.hooks.written?.(round.length, (performance.now() - started) / 1000);
          cur.segment.bytes += size;
          cur.segment.lastLsn = round[round.length - 1]!.lsn;
          cur.prefilled = Math.max(cur.prefilled, cur.segment.bytes);
          this.failure = null;
          this.prefill(cur);
        } catch (err) {
          const reason = reasonOf(err);
          const failed = new JournalError(`cannot write the intake journal in ${this.dir}: ${reason}; alerts are refused until it is writable`, { cause: err });
          this.logger.error({ err, records: round.length }, 'intake journal write failed');
          this.hooks.failed?.(round.length);
          // The file may now end in part of this round: cut off before anything else is written,
          // and before the round is answered (so the room that frees is there when it is).
          this.failure = { reason, torn: true };
          await this.repair(this.failure);
          for (const p of round) this.settle(p, failed);
          continue;
        }
        if (cur.segment.bytes >= this.segmentBytes) {
          // The round is on disk whatever happens here; without a new segment the current grows.
          await this.startSegment().catch((err: unknown) => this.logger.warn({ err, dir: this.dir }, 'cannot start a new intake journal segment; appending to the current one'));
        }
        for (const p of round) this.settle(p);
      }
    } finally {
      this.flushing = null;
    }
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Where the next readable record after a damaged one at `from` starts (one with a higher lsn than
 * `after`), or null. Records start with their header, then `{"lsn":`.
 */
function nextRecordAt(data: Buffer, from: number, after: number): number | null {
  const marker = Buffer.from('{"lsn":');
  for (let i = data.indexOf(marker, from + 1); i !== -1; i = data.indexOf(marker, i + 1)) {
    const at = i - HEADER;
    if (at <= from) continue;
    const r = readRecord(data, at);
    if (r !== null && r.record.lsn > after) return at;
  }
  return null;
}

/** Whether `data` holds only zeros from `from` on. */
function zerosFrom(data: Buffer, from: number): boolean {
  const chunk = zeroChunk();
  for (let at = from; at < data.length; at += chunk.length) {
    const part = data.subarray(at, Math.min(data.length, at + chunk.length));
    if (!part.equals(chunk.subarray(0, part.length))) return false;
  }
  return true;
}

/** Writes `buffers` (`size` bytes) at `position` on the pool: writev may write part, the rest goes in further calls. */
async function writeAllAt(fh: FileHandle, buffers: Buffer[], size: number, position: number): Promise<void> {
  let written = 0;
  while (written < size) written += (await fh.writev(written === 0 ? buffers : remaining(buffers, written), position + written)).bytesWritten;
}

function remaining(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

function readRecord(data: Buffer, at: number): { record: StoredRecord; end: number } | null {
  if (at + HEADER > data.length) return null;
  const length = data.readUInt32LE(at);
  const end = at + HEADER + length;
  if (end > data.length) return null;
  const payload = data.subarray(at + HEADER, end);
  if (crc32(payload) !== data.readUInt32LE(at + 4)) return null;
  try {
    const record = JSON.parse(payload.toString('utf8')) as StoredRecord;
    if (!Number.isSafeInteger(record.lsn)) return null;
    const request = 'request' in record ? record.request : undefined;
    if (!Array.isArray(record.signals) && (typeof request !== 'object' || request === null || !('body' in record))) return null;
    return { record, end };
  } catch {
    return null;
  }
}
