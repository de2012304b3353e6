// The intake journal on real files: what is appended and synced is read back after a restart, a
// torn tail is cut off, applied segments go away, and the directory belongs to one process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll as afterAllHook, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntakeJournal, JournalError } from '../../src/incidents/intake-journal.js';
import { InstanceLockedError } from '../../src/shared/errors.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { Writable } from 'node:stream';
import { sig, target } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const LOCK_MODULE = pathToFileURL(join(ROOT, 'src', 'shared', 'lock-file.ts')).href;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (segmentBytes?: number) => IntakeJournal.open({ dir, logger: silentLogger(), segmentBytes });
const signal = (n: number) => sig(target(`srv-${n}`), 'fail', 1_000 + n);
const segments = () => readdirSync(dir).filter((f) => f.endsWith('.log')).sort();

/** Bytes of a segment file up to the end of its last record (records end in `}`, never in a zero). */
function recordBytes(file: string): number {
  const data = readFileSync(join(dir, file));
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return end;
}

/** A logger at warn whose lines (JSON) are kept in `lines`. */
function warnings(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, next) => (lines.push(String(chunk)), next()) });
  return { lines, logger: createLogger({ format: 'json', level: 'warn', destination }) };
}

/** Files under `folder` this process still has open (Linux: /proc/self/fd). */
function openFilesUnder(folder: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const file = readlinkSync(`/proc/self/fd/${fd}`);
      if (file.startsWith(`${folder}/`)) open.push(file);
    } catch {
      // closed meanwhile (the descriptor readdir itself used)
    }
  }
  return open;
}

describe('IntakeJournal', () => {
  it('reads back every synced record, in order, after a restart without close', async () => {
    const j = await open();
    // Text beyond ASCII (more bytes than characters) reads back whole and passes its checksum.
    const a = j.append([signal(1), { ...signal(2), message: 'Drucker im 2. Stock: Papierstau 🖨️ – bitte prüfen' }]);
    const b = j.append([signal(3)]);
    await Promise.all([a.durable, b.durable]);
    expect(b.lsn).toBe(a.lsn + 1);
    // Reopened without reading anything the first handle left in memory.
    await j.close();
    const again = await open();
    const recovered = again.takeRecovered();
    expect(recovered.map((r) => r.lsn)).toEqual([a.lsn, b.lsn]);
    expect(recovered[0]!.signals).toEqual([signal(1), { ...signal(2), message: 'Drucker im 2. Stock: Papierstau 🖨️ – bitte prüfen' }]);
    expect(recovered[1]!.signals).toEqual([signal(3)]);
    expect(again.id).toBe(j.id);
    // New records continue after the old ones.
    const c = again.append([signal(4)]);
    await c.durable;
    expect(c.lsn).toBe(b.lsn + 1);
    await again.close();
  });

  it('counts appended signals as pending until they are on disk', async () => {
    const j = await open();
    const { durable } = j.append([signal(1), signal(2), signal(3)]);
    expect(j.pending()).toBe(3);
    await durable;
    expect(j.pending()).toBe(0);
    await j.close();
  });

  it('cuts off a record torn by a crash in the middle of an append and keeps the ones before', async () => {
    const j = await open();
    await j.append([signal(1)]).durable;
    await j.append([signal(2)]).durable;
    const end = j.disk().bytes;
    await j.close();
    const file = join(dir, segments().at(-1)!);
    // The last 5 bytes of the second record never reached the disk: zeros, as written ahead of it.
    const data = readFileSync(file);
    expect(data.length).toBeGreaterThan(end);
    data.fill(0, end - 5, end);
    writeFileSync(file, data);
    const again = await open();
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1']);
    expect(statSync(file).size).toBeLessThan(end - 5);
    await again.append([signal(3)]).durable;
    await again.close();
    const third = await open();
    expect(third.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1', 'srv-3']);
    await third.close();
  });

  it('drops a record whose checksum does not match', async () => {
    const j = await open();
    await j.append([signal(1)]).durable;
    await j.append([signal(2)]).durable;
    await j.close();
    const file = join(dir, segments().at(-1)!);
    const data = readFileSync(file);
    // Flip a byte inside the second record's JSON ("srv-2" → "srv-3").
    const at = data.lastIndexOf('srv-2');
    data[at + 4] = '3'.charCodeAt(0);
    writeFileSync(file, data);
    const again = await open();
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1']);
    await again.close();
  });

  it('deletes segments once released and never reuses their lsns', async () => {
    const j = await open(200); // a new segment after every record or two
    let last = 0;
    for (let n = 0; n < 6; n++) {
      const a = j.append([signal(n)]);
      await a.durable;
      last = a.lsn;
    }
    await j.append([signal(99)]).durable;
    const before = segments();
    expect(before.length).toBeGreaterThan(2);
    expect(j.canRelease(0)).toBe(false);
    expect(j.canRelease(last)).toBe(true);
    j.release(last + 1);
    await new Promise((r) => setTimeout(r, 50)); // unlink runs in the background
    // The segment being written stays, whatever the mark says.
    expect(segments()).toEqual([before.at(-1)]);
    await j.close();
    const again = await open(200);
    const recovered = again.takeRecovered();
    expect(recovered.every((r) => r.lsn > last)).toBe(true);
    const next = again.append([signal(100)]);
    await next.durable;
    expect(next.lsn).toBeGreaterThan(last + 1);
    await again.close();
  });

  it('reports its files on disk and each group write, for the metrics', async () => {
    const writes: number[] = [];
    const j = await IntakeJournal.open({ dir, logger: silentLogger(), segmentBytes: 600, hooks: { written: (records) => writes.push(records) } });
    expect(j.disk()).toEqual({ segments: 1, bytes: 0 });
    // Appends made in one turn of the event loop share one write.
    const three = [1, 2, 3].map((n) => j.append([signal(n)]));
    await Promise.all(three.map((a) => a.durable));
    expect(writes).toEqual([3]);
    // Past 600 bytes a new segment started; the bytes are those of the files' records (the zeros
    // written ahead of them do not count).
    expect(j.disk()).toEqual({ segments: 2, bytes: segments().reduce((n, f) => n + recordBytes(f), 0) });
    expect(j.disk().bytes).toBeGreaterThan(600);
    j.release(three[2]!.lsn);
    expect(j.disk()).toEqual({ segments: 1, bytes: 0 });
    await j.append([signal(4)]).durable;
    const unreleased = j.disk();
    expect(unreleased.bytes).toBeGreaterThan(0);
    await j.close();

    // After a restart the record not yet in the store counts again, next to the new segment.
    const again = await open(600);
    expect(again.disk()).toEqual({ segments: 2, bytes: unreleased.bytes });
    await again.close();
  });

  it('writes records into zeros written ahead of them, and reads those zeros back as the end of the segment, not as a torn record', async () => {
    const { lines, logger } = warnings();
    const j = await IntakeJournal.open({ dir, logger });
    for (let n = 0; n < 3; n++) await j.append([signal(n)]).durable;
    const end = j.disk().bytes;
    await j.close();
    const file = join(dir, segments().at(-1)!);
    // 64 KiB of zeros were on disk before the first record: the records went in place.
    const size = statSync(file).size;
    expect(size).toBe(64 * 1024);
    expect(recordBytes(segments().at(-1)!)).toBe(end);
    const again = await IntakeJournal.open({ dir, logger });
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-0', 'srv-1', 'srv-2']);
    // Nothing was reported or cut off.
    expect(lines).toEqual([]);
    expect(statSync(file).size).toBe(size);
    await again.close();
  });

  it('writes zeros ahead in steps that double while records fill them, never past the segment size', async () => {
    const j = await IntakeJournal.open({ dir, logger: silentLogger(), segmentBytes: 200 * 1024 });
    const file = () => join(dir, segments()[0]!);
    expect(statSync(file()).size).toBe(64 * 1024);
    // Records of about 10 KiB each; more than half of the first step is used after four of them.
    const sizes: number[] = [];
    for (let n = 0; n < 17; n++) {
      await j.append(Array.from({ length: 60 }, (_, i) => signal(n * 100 + i))).durable;
      await new Promise((r) => setTimeout(r, 20)); // the next step is written in the background
      sizes.push(statSync(file()).size);
    }
    await j.close();
    const steps = [...new Set(sizes)];
    expect(steps.slice(0, 3)).toEqual([64 * 1024, 128 * 1024, 200 * 1024]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200 * 1024 + 12 * 1024);
    const again = await open(200 * 1024);
    expect(again.takeRecovered()).toHaveLength(17);
    await again.close();
  });

  it('writes small rounds on the event loop, and after a slow write there goes to the thread pool for a while, saying so', async () => {
    const { lines, logger } = warnings();
    // Every write counts as slow: the first small round is written on the event loop and reported.
    const j = await IntakeJournal.open({ dir, logger, slowInlineMs: -1 });
    await j.append([signal(1)]).durable;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/held the event loop for \d+ ms .*writing on the thread pool for the next 60 s/);
    // The next ones go to the pool (never held on the event loop, so never reported), and are on disk.
    await j.append([signal(2)]).durable;
    await j.append([signal(3)]).durable;
    expect(lines).toHaveLength(1);
    await j.close();
    const again = await open();
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1', 'srv-2', 'srv-3']);
    await again.close();
  });

  it('writes a large round (large request bodies) on the thread pool, not on the event loop', async () => {
    const { lines, logger } = warnings();
    const j = await IntakeJournal.open({ dir, logger, slowInlineMs: -1 });
    const big = Array.from({ length: 60 }, (_, i) => signal(100 + i));
    await j.append(big).durable;
    expect(lines).toEqual([]);
    await j.close();
    const again = await open();
    expect(again.takeRecovered().flatMap((r) => r.signals)).toHaveLength(60);
    await again.close();
  });

  it('names the directory when it cannot be created', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    await expect(IntakeJournal.open({ dir: join(file, 'journal'), logger: silentLogger() })).rejects.toThrow(JournalError);
    await expect(IntakeJournal.open({ dir: join(file, 'journal'), logger: silentLogger() })).rejects.toThrow(/not-a-dir\/journal.*journal_dir/);
  });

  it('refuses appends once closed, saying so', async () => {
    const j = await open();
    await j.close();
    await expect(j.append([signal(1)]).durable).rejects.toThrow(/intake journal is closed/);
  });
});

describe('IntakeJournal across restarts', () => {
  it('keeps the live segment after a restart with nothing appended in between (its name reused)', async () => {
    const first = await open();
    await first.close();
    // The second start finds an empty segment whose name is the one it would create.
    const second = await open();
    await second.close();
    const j = await open();
    const a = j.append([signal(1)]);
    const b = j.append([signal(2)]);
    await Promise.all([a.durable, b.durable]);
    // The store has committed up to a: nothing holding b may go.
    expect(j.canRelease(a.lsn)).toBe(false);
    j.release(a.lsn);
    await new Promise((r) => setTimeout(r, 50)); // unlink runs in the background
    expect(segments()).toHaveLength(1);
    expect(j.disk().segments).toBe(1);
    await j.close();
    const again = await open();
    expect(again.takeRecovered().map((r) => r.lsn)).toEqual([a.lsn, b.lsn]);
    await again.close();
  });

  it('never hands out an lsn at or below the store mark, whatever is left on disk', async () => {
    const j = await open();
    await j.append([signal(1)]).durable;
    await j.close();
    // The segments are gone (deleted by hand, or by an older version), the id stays.
    for (const f of segments()) rmSync(join(dir, f));
    const again = await open();
    await again.advanceTo(500);
    const next = again.append([signal(2)]);
    await next.durable;
    expect(next.lsn).toBe(501);
    await again.close();
    // And it stays past the mark at the next start without the floor given again.
    const third = await open();
    expect(third.takeRecovered().map((r) => r.lsn)).toEqual([501]);
    const after = third.append([signal(3)]);
    await after.durable;
    expect(after.lsn).toBe(502);
    await third.close();
    expect(segments().every((f) => Number(/\d+/.exec(f)![0]) > 1)).toBe(true);
  });

  it('closes every file it opened, also a segment it was starting when close() came', async () => {
    const j = await open();
    // With its segment still empty, advanceTo starts it again under the new number; close() comes
    // while that file is being opened.
    const advancing = j.advanceTo(100);
    await j.close();
    await advancing;
    // An open FileHandle left behind is closed by the garbage collector, with a DEP0137 warning.
    expect(openFilesUnder(dir)).toEqual([]);
    const again = await open();
    expect(openFilesUnder(dir).length).toBeGreaterThan(0);
    await again.close();
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('keeps readable records that follow a damaged one in the same file instead of cutting them off', async () => {
    const j = await open();
    await j.append([signal(1)]).durable;
    await j.append([signal(2)]).durable;
    await j.append([signal(3)]).durable;
    await j.close();
    const file = join(dir, segments().at(-1)!);
    const data = readFileSync(file);
    const at = data.indexOf('srv-2');
    data[at + 4] = '7'.charCodeAt(0); // the second record's checksum no longer matches
    writeFileSync(file, data);
    const size = statSync(file).size;
    const again = await open();
    // srv-2 cannot be read back; srv-3, answered after it, is kept and the file is left whole.
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1', 'srv-3']);
    expect(statSync(file).size).toBe(size);
    await again.close();
  });
});

describe('IntakeJournal lock', () => {
  /** Another process holding the journal directory's lock (as a second daemon would). */
  async function holdInOtherProcess(): Promise<ChildProcess> {
    const script = `const m = await import(${JSON.stringify(LOCK_MODULE)}); const r = m.tryLock(${JSON.stringify(join(dir, 'lock'))}); console.log(r.ok ? 'locked' : 'refused'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((r) => child.stdout.once('data', (d) => r(String(d).trim())));
    expect(first).toBe('locked');
    return child;
  }

  it('refuses while another process holds the directory, naming its pid, and takes it once that process is killed -9', async () => {
    const j = await open();
    await j.append([signal(1)]).durable;
    await j.close();
    const other = await holdInOtherProcess();
    try {
      await expect(open()).rejects.toThrow(`another incidentd (pid ${other.pid}) holds the intake journal ${dir}`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // Nothing left behind to clean up: the kernel dropped the dead process's lock.
    const again = await open();
    expect(again.takeRecovered()).toHaveLength(1);
    await again.close();
  });

  it('refuses a second open of the directory while the first holds it, naming the holder', async () => {
    const j = await open();
    const second = open();
    await expect(second).rejects.toThrow(InstanceLockedError);
    await expect(open()).rejects.toThrow(new RegExp(`another incidentd \\(pid ${process.pid}\\) holds the intake journal ${dir}.*MongoDB`));
    await j.close();
    // Closed: the next open takes it.
    const again = await open();
    await again.close();
  });
});

// A real full disk: a 64 KiB tmpfs with few inodes. Mounting needs root (CAP_SYS_ADMIN); where it
// is refused these tests are skipped, and say so on stderr.
const fullDisk = (() => {
  const root = mkdtempSync(join(tmpdir(), 'incidentd-fulldisk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=32', 'tmpfs', root]);
  if (r.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    process.stderr.write(
      `\n*** SKIPPED: intake journal disk-full tests: cannot mount a tmpfs (${String(r.stderr).trim() || `exit ${r.status}`}); run them as root ***\n\n`,
    );
    return null;
  }
  return root;
})();

describe.skipIf(fullDisk === null)('IntakeJournal on a full disk (tmpfs)', () => {
  const fsRoot = fullDisk!;
  const jdir = join(fsRoot, 'journal');
  afterEach(() => {
    for (const f of readdirSync(fsRoot)) rmSync(join(fsRoot, f), { recursive: true, force: true });
  });
  // Unmounted once the file's tests are done.
  afterAllUnmount(fsRoot);

  /** Fills the tmpfs's blocks, and its inodes, so nothing more can be written or created. */
  function fill(): { freeBytes(n: number): void; freeInodes(): void } {
    const filler = join(fsRoot, 'filler');
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (;;) writeFileSync(filler, chunk, { flag: 'a' });
    } catch {
      // ENOSPC: the blocks are used up
    }
    try {
      for (let n = 0; ; n++) writeFileSync(join(fsRoot, `inode-${n}`), '');
    } catch {
      // ENOSPC: the inodes are used up
    }
    return {
      freeBytes: (n) => truncateSync(filler, Math.max(0, statSync(filler).size - n)),
      freeInodes: () => {
        for (const f of readdirSync(fsRoot)) if (f.startsWith('inode-')) rmSync(join(fsRoot, f));
      },
    };
  }

  const big = (n: number) => Array.from({ length: 60 }, (_, i) => signal(n * 1000 + i));

  it('answers an append it could not write with an error, cuts its partial bytes off, and loses no later record', async () => {
    const j = await IntakeJournal.open({ dir: jdir, logger: silentLogger() });
    await j.append([signal(1)]).durable;
    const disk = fill();
    // Part of it fits in the file's last block, the rest does not: a torn record on disk.
    await expect(j.append(big(2)).durable).rejects.toThrow(JournalError);
    expect(j.health()).toMatch(/^write failing: .*ENOSPC/);
    // No new segment can be created (no inodes); once space is back, appends go on, and must not
    // land behind the partial record.
    disk.freeBytes(32 * 1024);
    const later = j.append([signal(3)]);
    await later.durable;
    expect(j.health()).toBeNull();
    await j.close();
    disk.freeInodes();
    const again = await IntakeJournal.open({ dir: jdir, logger: silentLogger() });
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1', 'srv-3']);
    await again.close();
  });

  it('takes no room with zeros it could not finish writing ahead: a record that fits in what is left is written', async () => {
    const disk = fill();
    disk.freeInodes();
    disk.freeBytes(40 * 1024);
    const { lines, logger } = warnings();
    // The first 64 KiB of zeros do not fit: they are cut off again, and the segment grows by its writes.
    const j = await IntakeJournal.open({ dir: jdir, logger });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ENOSPC.*cannot write zeros ahead of the intake journal's records/);
    await j.append(big(1)).durable;
    await j.close();
    const again = await IntakeJournal.open({ dir: jdir, logger: silentLogger() });
    expect(again.takeRecovered().flatMap((r) => r.signals)).toHaveLength(60);
    await again.close();
  });

  it('reports writes failing until one succeeds, and finds out by itself once the disk has room', async () => {
    const j = await IntakeJournal.open({ dir: jdir, logger: silentLogger() });
    const disk = fill();
    await expect(j.append(big(1)).durable).rejects.toThrow(/cannot write the intake journal/);
    expect(await j.check()).toMatch(/^write failing: /);
    disk.freeBytes(32 * 1024);
    disk.freeInodes();
    expect(await j.check()).toBeNull();
    await j.close();
  });
});

function afterAllUnmount(root: string): void {
  afterAllHook(() => {
    spawnSync("umount", ["-l", root]);
    rmSync(root, { recursive: true, force: true });
  });
}
