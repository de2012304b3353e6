// The intake journal: the write-ahead queue on disk in front of the incident manager. An alert
// request is answered 2xx once its signals are appended here and fsynced; the manager commits them
// to the store afterwards, in larger batches, and records in the same store transaction how far
// into the journal it has got (the "intake mark"). After a crash, whatever the journal holds beyond
// the mark is committed again at start-up, so an answered request loses nothing and nothing is
// committed twice.
//
// Files: <dir>/id (this journal's name in the store's marks) and segments intake-<first lsn>.log,
// each a run of records [u32 length][u32 crc32][JSON {"lsn":n,"signals":[...]}]. Appends made
// while an fsync runs are written and synced together (group commit), off the event loop. A
// segment is deleted once the mark has passed its last record.
import { randomUUID } from 'node:crypto';
import { constants, mkdirSync, openSync, closeSync, fsyncSync, readdirSync, readFileSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Signal } from '../domain/signal.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export class JournalError extends IncidentdError {}

export interface JournalRecord {
  lsn: number;
  signals: Signal[];
}

export interface IntakeJournalOptions {
  dir: string;
  logger: Logger;
  /** A segment is closed (and can be deleted once applied) when it grows past this; default 8 MiB. */
  segmentBytes?: number;
  /**
   * While appends come in less than this apart, the next fsync waits this long for more of them
   * (a lone append is written at once); default 1 ms. Each fsync costs the disk and about 0.3 ms
   * of CPU, so under a stream of small requests one fsync covers many.
   */
  groupWindowMs?: number;
  /** Told of every group write (for metrics): how many records, how long until on disk. */
  hooks?: JournalHooks;
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
  done: () => void;
  fail: (err: unknown) => void;
}

const HEADER = 8;
/** Queued bytes that are written at once, without waiting for the group window. */
const GROUP_FLUSH_BYTES = 1024 * 1024;
const SEGMENT_RE = /^intake-(\d{16})\.log$/;

function segmentName(firstLsn: number): string {
  return `intake-${String(firstLsn).padStart(16, '0')}.log`;
}

/**
 * Segments are opened for appending with O_DSYNC where the platform has it: each write returns
 * once its data is on disk, one system call per round instead of a write and an fdatasync.
 */
const DSYNC: number | undefined = constants.O_DSYNC;
const APPEND_FLAGS = DSYNC === undefined ? 'a' : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | DSYNC;

/** Makes a new directory entry durable (a file created and fsynced is lost without it). */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class IntakeJournal {
  private readonly segments: Segment[] = [];
  private current: { segment: Segment; fh: FileHandle } | null = null;
  private nextLsn: number;
  private queue: Pending[] = [];
  private queuedSignals = 0;
  private flushing: Promise<void> | null = null;
  private groupTimer: NodeJS.Timeout | null = null;
  private lastAppendAt = 0;
  private queuedBytes = 0;
  private readonly groupWindowMs: number;
  private recoveredRecords: JournalRecord[];
  private closed = false;
  private released = 0;
  private readonly segmentBytes: number;

  private constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly logger: Logger,
    recovered: JournalRecord[],
    nextLsn: number,
    segments: Segment[],
    segmentBytes: number,
    groupWindowMs: number,
    private readonly hooks: JournalHooks,
  ) {
    this.groupWindowMs = groupWindowMs;
    this.recoveredRecords = recovered;
    this.nextLsn = nextLsn;
    this.segments = segments;
    this.segmentBytes = segmentBytes;
  }

  /**
   * Opens (creating) the journal in `dir` and reads what it holds. A record torn by a crash in the
   * middle of an append was never acknowledged (its fsync did not finish): it is cut off, and
   * logged. Appends go to a new segment.
   */
  static async open(opts: IntakeJournalOptions): Promise<IntakeJournal> {
    const { dir, logger } = opts;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new JournalError(`cannot create the intake journal directory ${dir}: ${(err as Error).message}; set ingest.journal_dir to a writable directory`, { cause: err });
    }
    const idFile = join(dir, 'id');
    if (!existsSync(idFile)) {
      writeFileSync(idFile, `${randomUUID()}\n`, { flag: 'wx' });
      syncDir(dir);
    }
    const id = readFileSync(idFile, 'utf8').trim();
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new JournalError(`${idFile} does not hold a journal id; remove the directory only if every alert in it is in the store`);

    const segments: Segment[] = readdirSync(dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ file: join(dir, m[0]), firstLsn: Number(m[1]), lastLsn: Number(m[1]) - 1, bytes: 0 }))
      .sort((a, b) => a.firstLsn - b.firstLsn);

    const recovered: JournalRecord[] = [];
    let nextLsn = 1;
    for (const seg of segments) {
      nextLsn = Math.max(nextLsn, seg.firstLsn);
      const data = readFileSync(seg.file);
      let at = 0;
      while (at < data.length) {
        const record = readRecord(data, at);
        if (record === null) {
          logger.warn(
            { file: seg.file, offset: at, droppedBytes: data.length - at },
            'intake journal ends in a torn record (a crash during an append that was never answered); cutting it off',
          );
          truncateSync(seg.file, at);
          break;
        }
        recovered.push(record.record);
        seg.lastLsn = record.record.lsn;
        seg.bytes = record.end;
        nextLsn = Math.max(nextLsn, record.record.lsn + 1);
        at = record.end;
      }
    }
    const journal = new IntakeJournal(id, dir, logger, recovered, nextLsn, segments, opts.segmentBytes ?? 8 * 1024 * 1024, opts.groupWindowMs ?? 1, opts.hooks ?? {});
    await journal.startSegment();
    return journal;
  }

  /** The records found at open, oldest first. The manager replays those past the store's mark. */
  takeRecovered(): JournalRecord[] {
    const r = this.recoveredRecords;
    this.recoveredRecords = [];
    return r;
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

  /**
   * Appends the signals as one record. `durable` resolves once the record is on disk (fsynced);
   * records become durable in lsn order.
   */
  append(signals: Signal[]): { lsn: number; durable: Promise<void> } {
    if (this.closed) return { lsn: 0, durable: Promise.reject(new JournalError('the intake journal is closed')) };
    const lsn = this.nextLsn++;
    const payload = Buffer.from(JSON.stringify({ lsn, signals }), 'utf8');
    const bytes = Buffer.allocUnsafe(HEADER + payload.length);
    bytes.writeUInt32LE(payload.length, 0);
    bytes.writeUInt32LE(crc32(payload), 4);
    payload.copy(bytes, HEADER);
    const durable = new Promise<void>((done, fail) => this.queue.push({ lsn, bytes, done, fail }));
    this.queuedSignals += signals.length;
    const count = signals.length;
    durable.then(
      () => (this.queuedSignals -= count),
      () => (this.queuedSignals -= count),
    );
    this.queuedBytes += bytes.length;
    this.scheduleFlush();
    return { lsn, durable };
  }

  /**
   * A flush in progress takes whatever queues meanwhile. Otherwise: at once for a lone append or
   * a large queue, else after the group window, so concurrent small requests share one fsync.
   */
  private scheduleFlush(): void {
    const now = performance.now();
    const streaming = now - this.lastAppendAt < this.groupWindowMs;
    this.lastAppendAt = now;
    if (this.flushing || this.groupTimer) {
      if (this.groupTimer && this.queuedBytes >= GROUP_FLUSH_BYTES) this.flushNow();
      return;
    }
    if (!streaming || this.queuedBytes >= GROUP_FLUSH_BYTES) this.flushNow();
    else this.groupTimer = setTimeout(() => this.flushNow(), this.groupWindowMs);
  }

  private flushNow(): void {
    if (this.groupTimer) clearTimeout(this.groupTimer);
    this.groupTimer = null;
    this.flushing ??= this.flush();
  }

  /** Whether release(lsn) would delete a segment (so the commit recording `lsn` must be synced). */
  canRelease(lsn: number): boolean {
    const seg = this.segments[0];
    return seg !== undefined && seg !== this.current?.segment && seg.lastLsn <= lsn;
  }

  /** Everything up to `lsn` is durably in the store: segments holding nothing newer are deleted. */
  release(lsn: number): void {
    if (lsn <= this.released) return;
    this.released = lsn;
    while (this.segments.length > 0) {
      const seg = this.segments[0]!;
      if (seg === this.current?.segment || seg.lastLsn > lsn) break;
      this.segments.shift();
      unlink(seg.file).catch((err: unknown) => this.logger.warn({ err, file: seg.file }, 'cannot delete an applied intake journal segment'));
    }
  }

  /** Waits for appends in flight, then closes the file. */
  async close(): Promise<void> {
    if (this.groupTimer) this.flushNow();
    while (this.flushing) await this.flushing;
    this.closed = true;
    await this.current?.fh.close();
    this.current = null;
  }

  private async startSegment(): Promise<void> {
    const segment: Segment = { file: join(this.dir, segmentName(this.nextLsn)), firstLsn: this.nextLsn, lastLsn: this.nextLsn - 1, bytes: 0 };
    // Appending: a segment of this name can only exist empty (a crash right after creating it).
    const fh = await open(segment.file, APPEND_FLAGS);
    syncDir(this.dir);
    const previous = this.current;
    this.current = { segment, fh };
    if (!this.segments.includes(segment)) this.segments.push(segment);
    await previous?.fh.close();
    // A segment the mark has already passed can go now.
    if (previous && previous.segment.lastLsn <= this.released) this.release(this.released);
  }

  /** Writes and syncs queued records until none are left; one fsync per round. */
  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const round = this.queue;
        this.queue = [];
        this.queuedBytes = 0;
        try {
          const cur = this.current!;
          const started = performance.now();
          const buffers = round.map((p) => p.bytes);
          let size = 0;
          for (const b of buffers) size += b.length;
          // writev may write part of the data; the rest goes in further calls.
          let written = 0;
          while (written < size) {
            const { bytesWritten } = await cur.fh.writev(written === 0 ? buffers : remaining(buffers, written));
            written += bytesWritten;
          }
          if (DSYNC === undefined) await cur.fh.datasync();
          this.hooks.written?.(round.length, (performance.now() - started) / 1000);
          cur.segment.bytes += size;
          cur.segment.lastLsn = round[round.length - 1]!.lsn;
          if (cur.segment.bytes >= this.segmentBytes) {
            // The round is on disk whatever happens here; without a new segment the current grows.
            await this.startSegment().catch((err: unknown) => this.logger.warn({ err, dir: this.dir }, 'cannot start a new intake journal segment; appending to the current one'));
          }
          for (const p of round) p.done();
        } catch (err) {
          const failure = new JournalError(`cannot write the intake journal in ${this.dir}: ${(err as Error).message}; alerts are refused until it is writable`, { cause: err });
          this.logger.error({ err, records: round.length }, 'intake journal write failed');
          this.hooks.failed?.(round.length);
          for (const p of round) p.fail(failure);
          // The file may now end in a partial record; later records go to a fresh segment, and
          // the reader cuts the partial one off at the next start.
          await this.startSegment().catch(() => undefined);
        }
      }
    } finally {
      this.flushing = null;
    }
  }
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

function readRecord(data: Buffer, at: number): { record: JournalRecord; end: number } | null {
  if (at + HEADER > data.length) return null;
  const length = data.readUInt32LE(at);
  const end = at + HEADER + length;
  if (end > data.length) return null;
  const payload = data.subarray(at + HEADER, end);
  if (crc32(payload) !== data.readUInt32LE(at + 4)) return null;
  try {
    const record = JSON.parse(payload.toString('utf8')) as JournalRecord;
    if (!Number.isSafeInteger(record.lsn) || !Array.isArray(record.signals)) return null;
    return { record, end };
  } catch {
    return null;
  }
}
