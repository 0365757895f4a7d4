// The recorder off the scoring path: batches, a write as soon as a slice's worth waits, a sink
// that fails keeps its records for the next flush (and is not hammered meanwhile), a full buffer
// drops the oldest (counted), a sink still connecting is waited for; the daily files keep the
// retention.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TrafficRecorder, type RecordSink } from '../../services/recording/recorder.ts';
import { recordLine, type RecordLine, type TrafficRecord } from '../../services/recording/record.ts';
import {
  NdjsonRecordSink,
  ndjsonLines,
  recordFileName,
  recordFiles,
} from '../../services/adapters/files/record-file.ts';

function memorySink(): RecordSink & { batches: TrafficRecord[][]; failing: boolean; writes: number } {
  const sink = {
    batches: [] as TrafficRecord[][],
    failing: false,
    writes: 0,
    write(lines: readonly RecordLine[]) {
      sink.writes++;
      if (sink.failing) return Promise.reject(new Error('broker down'));
      sink.batches.push(lines.map((l) => JSON.parse(l.json) as TrafficRecord));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  return sink;
}

const outcomes = (recorder: TrafficRecorder, from: number, n: number) => {
  for (let i = from; i < from + n; i++)
    recorder.outcome('m1', `t${i}`, 'declined', Date.UTC(2026, 11, 1), Date.UTC(2026, 11, 1, 0, 1));
};
const ids = (batches: TrafficRecord[][]) => batches.flat().map((r) => r.transactionId);

describe('traffic recorder', () => {
  it('writes in batches, keeps a failed batch for the next flush, in order', async () => {
    const sink = memorySink();
    const errors: unknown[] = [];
    let written = 0;
    const recorder = new TrafficRecorder({
      sink,
      flushMs: 60_000,
      onError: (e) => errors.push(e),
      onWritten: (n) => (written += n),
    });
    outcomes(recorder, 0, 3);
    await recorder.flush();
    sink.failing = true;
    outcomes(recorder, 3, 2);
    await recorder.flush();
    expect(errors).toHaveLength(1);
    sink.failing = false;
    outcomes(recorder, 5, 1);
    await recorder.close();
    expect(ids(sink.batches)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    expect(written).toBe(6);
    expect(sink.batches[0]![0]).toMatchObject({
      kind: 'outcome',
      outcome: 'declined',
      at: '2026-12-01T00:00:00.000Z',
      reportedAt: '2026-12-01T00:01:00.000Z',
    });
  });

  it('writes what waits in slices of writeRecords, and a failed slice keeps itself and the rest', async () => {
    const sink = memorySink();
    const recorder = new TrafficRecorder({ sink, flushMs: 60_000, writeRecords: 4 });
    outcomes(recorder, 0, 10);
    await recorder.flush();
    expect(sink.batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(ids(sink.batches)).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));

    // The second slice fails: the first is written once, the second and third wait, in order.
    const failing = memorySink();
    let writes = 0;
    const flaky: RecordSink = {
      write: (records) => (++writes === 2 ? Promise.reject(new Error('request too large')) : failing.write(records)),
      close: () => Promise.resolve(),
    };
    const errors: unknown[] = [];
    const second = new TrafficRecorder({
      sink: flaky,
      flushMs: 60_000,
      writeRecords: 4,
      onError: (e) => errors.push(e),
    });
    // The fourth record starts a write; the flush after it writes again what the failure kept.
    outcomes(second, 0, 10);
    await second.flush();
    expect(errors).toHaveLength(1);
    expect(writes).toBe(4);
    expect(ids(failing.batches)).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
    expect(failing.batches.map((b) => b.length)).toEqual([4, 4, 2]);
    outcomes(second, 10, 1);
    await second.close();
    expect(ids(failing.batches)).toEqual(Array.from({ length: 11 }, (_, i) => `t${i}`));
  });

  it('starts a write once writeRecords wait, without the timer, but leaves a failing sink to the timer', async () => {
    const sink = memorySink();
    const recorder = new TrafficRecorder({ sink, flushMs: 60_000, writeRecords: 3, onError: () => undefined });
    outcomes(recorder, 0, 5);
    await new Promise((r) => setImmediate(r));
    expect(ids(sink.batches)).toEqual(['t0', 't1', 't2', 't3', 't4']);

    // Two wait, short of a slice: they wait for the timer (or a flush).
    outcomes(recorder, 5, 2);
    await new Promise((r) => setImmediate(r));
    expect(sink.writes).toBe(2);

    // A failed write: records arriving do not try again, a flush does.
    sink.failing = true;
    outcomes(recorder, 7, 1);
    await new Promise((r) => setImmediate(r));
    expect(sink.writes).toBe(3);
    outcomes(recorder, 8, 6);
    await new Promise((r) => setImmediate(r));
    expect(sink.writes).toBe(3);
    sink.failing = false;
    await recorder.close();
    expect(ids(sink.batches)).toEqual(Array.from({ length: 14 }, (_, i) => `t${i}`));
  });

  it('closing while the sink fails drops what waits, and counts it', async () => {
    const sink = memorySink();
    sink.failing = true;
    let dropped = 0;
    const recorder = new TrafficRecorder({
      sink,
      flushMs: 60_000,
      onError: () => undefined,
      onDropped: (n) => (dropped += n),
    });
    outcomes(recorder, 0, 4);
    await recorder.close();
    expect(dropped).toBe(4);
    expect(sink.batches).toEqual([]);
  });

  it('closing before its sink has opened waits a bounded time, then drops what waits, and counts it', async () => {
    let dropped = 0;
    const recorder = new TrafficRecorder({
      sink: new Promise<RecordSink>(() => undefined), // a database down since the start
      flushMs: 60_000,
      closeWaitMs: 50,
      onDropped: (n) => (dropped += n),
    });
    outcomes(recorder, 0, 3);
    await recorder.close(); // before the change: never returned
    expect(dropped).toBe(3);
  });

  it('drops the oldest past its bound while the sink fails, and counts them', async () => {
    const sink = memorySink();
    sink.failing = true;
    let dropped = 0;
    const recorder = new TrafficRecorder({ sink, flushMs: 60_000, maxBuffered: 5, onDropped: (n) => (dropped += n) });
    outcomes(recorder, 0, 8);
    await recorder.flush();
    sink.failing = false;
    await recorder.close();
    expect(dropped).toBe(3);
    expect(ids(sink.batches)).toEqual(['t3', 't4', 't5', 't6', 't7']);
  });

  it('waits for a sink still connecting, and writes nothing until it is there', async () => {
    const sink = memorySink();
    let connect!: (s: RecordSink) => void;
    const recorder = new TrafficRecorder({ sink: new Promise<RecordSink>((r) => (connect = r)), flushMs: 60_000 });
    outcomes(recorder, 0, 2);
    const flushed = recorder.flush();
    expect(sink.batches).toHaveLength(0);
    connect(sink);
    await flushed;
    await recorder.close();
    expect(ids(sink.batches)).toEqual(['t0', 't1']);
  });
});

describe('daily NDJSON files', () => {
  const record: TrafficRecord = {
    kind: 'label',
    v: 1,
    merchantId: 'm1',
    transactionId: 't1',
    label: 'fraud',
    at: '2026-12-10T12:00:00.000Z',
  };
  const DAY = 86_400_000;
  /** The files each line of a folder is read from, in order, as a backtest reads it. */
  const readFrom = async (dir: string) => {
    const from: string[] = [];
    for await (const l of ndjsonLines(await recordFiles(dir))) from.push(basename(l.file));
    return from;
  };

  it('append to the day of writing, compress the days before, and delete the days past the retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-records-'));
    let now = Date.UTC(2026, 11, 10, 12);
    const sink = new NdjsonRecordSink(dir, { retentionDays: 3, now: () => now });
    const old = recordFileName(Date.UTC(2026, 11, 6));
    writeFileSync(join(dir, old), '');
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    await sink.write([recordLine(record)]);
    now += DAY;
    await sink.write([recordLine(record), recordLine(record)]);
    await sink.compressed(); // started by the turn of the day
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'records-2026-12-10.ndjson.gz', 'records-2026-12-11.ndjson']);
    expect(gunzipSync(readFileSync(join(dir, 'records-2026-12-10.ndjson.gz'))).toString()).toBe(
      `${recordLine(record).json}\n`,
    );
    expect(readFileSync(join(dir, 'records-2026-12-11.ndjson'), 'utf8').trim().split('\n')).toHaveLength(2);
    // A backtest reads the folder day by day, compressed or not.
    expect(await readFrom(dir)).toEqual([
      'records-2026-12-10.ndjson.gz',
      'records-2026-12-11.ndjson',
      'records-2026-12-11.ndjson',
    ]);
    now += 3 * DAY;
    await sink.write([recordLine(record)]);
    await sink.compressed();
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'records-2026-12-11.ndjson.gz', 'records-2026-12-14.ndjson']);
    await sink.close();
  });

  it('stop a compression under way when closed, leaving the day whole for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-records-'));
    // ~40 MB: compressing it takes far longer than the one write that starts it.
    const line = `${recordLine(record).json}\n`;
    writeFileSync(join(dir, 'records-2026-12-09.ndjson'), line.repeat(Math.ceil(40e6 / line.length)));
    const errors: unknown[] = [];
    const sink = new NdjsonRecordSink(dir, {
      retentionDays: 30,
      now: () => Date.UTC(2026, 11, 10, 12),
      onError: (e) => errors.push(e),
    });
    await sink.write([recordLine(record)]);
    await sink.close();
    // The day's NDJSON whole; at most a partial archive beside it, which a reader does not take.
    expect(readdirSync(dir).filter((f) => !f.endsWith('.partial'))).toEqual([
      'records-2026-12-09.ndjson',
      'records-2026-12-10.ndjson',
    ]);
    expect(await recordFiles(dir)).toEqual([
      join(dir, 'records-2026-12-09.ndjson'),
      join(dir, 'records-2026-12-10.ndjson'),
    ]);
    expect(errors).toEqual([]);
  });

  it('redo a compression cut short, and read a corrupt compressed day as an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-records-'));
    const day = `${recordLine(record).json}\n`.repeat(1_000);
    // A stop while the 8th was being compressed: its NDJSON whole, a partial archive beside it.
    writeFileSync(join(dir, 'records-2026-12-08.ndjson'), day);
    writeFileSync(join(dir, 'records-2026-12-08.ndjson.gz.partial'), 'cut short');
    const sink = new NdjsonRecordSink(dir, { retentionDays: 30, now: () => Date.UTC(2026, 11, 10, 12) });
    await sink.write([recordLine(record)]);
    await sink.compressed();
    expect(readdirSync(dir).sort()).toEqual(['records-2026-12-08.ndjson.gz', 'records-2026-12-10.ndjson']);
    const packed = readFileSync(join(dir, 'records-2026-12-08.ndjson.gz'));
    expect(gunzipSync(packed).toString()).toBe(day);
    expect(packed.length).toBeLessThan(day.length / 5);
    await sink.close();

    writeFileSync(join(dir, 'records-2026-12-09.ndjson.gz'), 'not gzip');
    await expect(readFrom(dir)).rejects.toThrow(/incorrect header check/);
  });
});
