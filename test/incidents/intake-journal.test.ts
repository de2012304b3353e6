// The intake journal on real files: what is appended and synced is read back after a restart, a
// torn tail is cut off, and applied segments go away.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntakeJournal, JournalError } from '../../src/incidents/intake-journal.js';
import { silentLogger } from '../../src/shared/logger.js';
import { sig, target } from './harness.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (segmentBytes?: number) => IntakeJournal.open({ dir, logger: silentLogger(), segmentBytes });
const signal = (n: number) => sig(target(`srv-${n}`), 'fail', 1_000 + n);
const segments = () => readdirSync(dir).filter((f) => f.endsWith('.log')).sort();

describe('IntakeJournal', () => {
  it('reads back every synced record, in order, after a restart without close', async () => {
    const j = await open();
    const a = j.append([signal(1), signal(2)]);
    const b = j.append([signal(3)]);
    await Promise.all([a.durable, b.durable]);
    expect(b.lsn).toBe(a.lsn + 1);
    // No close(): as after a kill -9.
    const again = await open();
    const recovered = again.takeRecovered();
    expect(recovered.map((r) => r.lsn)).toEqual([a.lsn, b.lsn]);
    expect(recovered[0]!.signals).toEqual([signal(1), signal(2)]);
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
    await j.close();
    const file = join(dir, segments().at(-1)!);
    const size = statSync(file).size;
    truncateSync(file, size - 5);
    const again = await open();
    expect(again.takeRecovered().map((r) => r.signals[0]!.target.id)).toEqual(['srv-1']);
    expect(statSync(file).size).toBeLessThan(size - 5);
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
    // A lone append is written at once; the two appended while it is on its way share one write.
    const three = [1, 2, 3].map((n) => j.append([signal(n)]));
    await Promise.all(three.map((a) => a.durable));
    expect(writes).toEqual([1, 2]);
    const size = (f: string) => statSync(join(dir, f)).size;
    // Past 600 bytes a new segment started; the bytes are those of the files' records.
    expect(j.disk()).toEqual({ segments: 2, bytes: segments().reduce((n, f) => n + size(f), 0) });
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
