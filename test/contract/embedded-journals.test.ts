// The embedded stores' append-only journals (the watchlist's, the flagged decisions') read back at
// start after a crash: a last line torn by a write cut short (kill -9, power loss) is dropped, said
// and cut off the file, so the store starts and later appends begin a line of their own; a line in
// the middle that cannot be read stops the start, named (file, line, byte offset, reason), and the
// journal is left as it was: never read in part. And a write the disk cannot take whole (full part-way
// through a line) queues nothing and leaves nothing half written.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { JournalFlaggedQueue } from '../../services/adapters/files/journal-flagged-queue.ts';
import { JournalCorrupt, type TornTail } from '../../services/adapters/files/journal-file.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import { fingerprintWith } from '../../services/core/card.ts';
import { entrySlot } from '../../services/core/watchlist.ts';
import { flagged } from '../console/fixtures.ts';
import { until } from '../support/wait.ts';
import { FIXTURE_CARD_KEY, FIXTURE_EVENT, FIXTURE_NOW } from '../support/watchlist-fixtures.ts';

interface Opened {
  torn: TornTail | undefined;
  /** What the store holds, as read back from its journal. */
  state(): Promise<unknown>;
  /** The i-th change (from 1): one journal line or more. */
  change(i: number): Promise<void>;
  close(): Promise<void>;
}

const slotOf = (i: number, j: number) => entrySlot(fingerprintWith(FIXTURE_CARD_KEY, `card-${i}-${j}`));
const CARDS_A_CHANGE = 50;

/** The journal queue's decisions, in order (what a start hands over). */
class InspectedQueue extends JournalFlaggedQueue {
  ids(): string[] {
    return this.items.map((f) => `${f.merchantId}/${f.transactionId}`);
  }
}

const journals: { name: string; open(path: string): Opened }[] = [
  {
    name: 'watchlist',
    open: (path) => {
      const store = new MemoryWatchlistStore(path);
      return {
        torn: store.torn,
        state: async () => {
          const events = await store.listEvents();
          const slots = events.flatMap((e) => Array.from({ length: CARDS_A_CHANGE }, (_, j) => slotOf(e.seq, j)));
          return {
            events,
            ranges: await store.allBinRanges(),
            entries: (await store.getEntries(slots)).map((b) => b?.toString('hex') ?? null),
            statistics: await Promise.all(events.map((e) => store.eventStatistics(e.seq))),
          };
        },
        change: async (i) => {
          const { event } = await store.createEvent(
            { ...FIXTURE_EVENT, externalId: `breach-${i}` },
            'bank-a',
            new Date('2026-09-01T00:00:00Z'),
          );
          const cards = Array.from({ length: CARDS_A_CHANGE }, (_, j) => ({
            slot: slotOf(event.seq, j),
            expiryTag: j,
          }));
          await store.addCards(event.seq, 1, cards, FIXTURE_NOW);
          await store.setBinRanges('bank-a', [{ from: '411111', to: `4111${String(i).padStart(2, '0')}` }]);
        },
        close: () => store.close(),
      };
    },
  },
  {
    name: 'flagged decisions',
    open: (path) => {
      const queue = new InspectedQueue(path);
      return {
        torn: queue.torn,
        state: async () => queue.ids(),
        change: (i) => queue.publish(flagged({ transactionId: `tx-${i}`, flaggedAt: '2026-09-01T00:00:00.000Z' })),
        close: () => queue.stop(),
      };
    },
  },
];

const fresh = (name: string) => join(mkdtempSync(join(tmpdir(), 'lg-journal-')), `${name.replace(/ /g, '-')}.journal`);

/** A journal of `changes` changes, closed: its path, bytes and state. */
async function written(journal: (typeof journals)[number], changes: number) {
  const path = fresh(journal.name);
  const store = journal.open(path);
  for (let i = 1; i <= changes; i++) await store.change(i);
  await store.close();
  const reopened = journal.open(path);
  const state = await reopened.state();
  await reopened.close();
  return { path, bytes: readFileSync(path), state };
}

/** The journal's lines, each with its line break. */
const linesOf = (bytes: Buffer) => {
  const lines: Buffer[] = [];
  for (let start = 0, nl = bytes.indexOf(10); nl >= 0; start = nl + 1, nl = bytes.indexOf(10, start))
    lines.push(bytes.subarray(start, nl + 1));
  return lines;
};

async function refusal(journal: (typeof journals)[number], path: string): Promise<JournalCorrupt> {
  const error = (() => {
    try {
      journal.open(path);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(error).toBeInstanceOf(JournalCorrupt);
  return error as JournalCorrupt;
}

describe.each(journals)('the embedded $name journal read back after a crash', (journal) => {
  it('drops a torn last line, wherever the write was cut, says where, cuts it off, and appends after it', async () => {
    const { path, bytes, state } = await written(journal, 3);
    // The next change's lines, as a crash part-way through its append would leave the last of them.
    const more = journal.open(path);
    await more.change(4);
    await more.close();
    const next = readFileSync(path);
    const last = linesOf(next).at(-1)!;
    const intact = next.subarray(0, next.length - last.length);
    const stateBefore = await (async () => {
      writeFileSync(path, intact);
      const s = journal.open(path);
      const read = await s.state();
      await s.close();
      return read;
    })();
    for (const cut of [1, 2, Math.floor(last.length / 2), last.length - 2, last.length - 1]) {
      writeFileSync(path, Buffer.concat([intact, last.subarray(0, cut)]));
      const store = journal.open(path);
      expect(store.torn, `cut at ${cut}`).toEqual({
        path,
        offset: intact.length,
        line: linesOf(intact).length + 1,
        bytes: cut,
        reason: 'no line break at its end',
      });
      expect(await store.state(), `cut at ${cut}`).toEqual(stateBefore);
      await store.close();
      // Cut back to the last complete line.
      expect(readFileSync(path).equals(intact), `cut at ${cut}`).toBe(true);
    }
    // Appended after the cut, the next change is a line of its own: read back whole with the rest.
    writeFileSync(path, Buffer.concat([bytes, last.subarray(0, 7)]));
    const resumed = journal.open(path);
    expect(resumed.torn?.offset).toBe(bytes.length);
    expect(await resumed.state()).toEqual(state);
    await resumed.change(4);
    const after = await resumed.state();
    await resumed.close();
    const restarted = journal.open(path);
    expect(restarted.torn).toBeUndefined();
    expect(await restarted.state()).toEqual(after);
    expect(after).not.toEqual(state);
    await restarted.close();
  });

  it('drops a last line that is not JSON, with a line break or with blank lines or zeros after it (a power loss)', async () => {
    const { path, bytes, state } = await written(journal, 2);
    const tails: [string, Buffer, string][] = [
      ['half a record and its line break', Buffer.from('{"t":"event","ev\n'), 'not a complete JSON record'],
      ['half a record, then blank lines', Buffer.from('{"add":{"merch\n\n  \n'), 'not a complete JSON record'],
      ['zeros the file system extended the file with', Buffer.alloc(4096), 'no line break at its end'],
      ['zeros, then a line break', Buffer.concat([Buffer.alloc(100), Buffer.from('\n')]), 'not a complete JSON record'],
    ];
    for (const [name, tail, reason] of tails) {
      writeFileSync(path, Buffer.concat([bytes, tail]));
      const store = journal.open(path);
      expect(store.torn, name).toEqual({
        path,
        offset: bytes.length,
        line: linesOf(bytes).length + 1,
        bytes: tail.length,
        reason,
      });
      expect(await store.state(), name).toEqual(state);
      await store.close();
      expect(readFileSync(path).equals(bytes), name).toBe(true);
    }
  });

  it('refuses to start on a line in the middle it cannot read: the file, the line, the byte offset and why, the journal left as it was', async () => {
    const { path, bytes } = await written(journal, 4);
    const lines = linesOf(bytes);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const offset = lines[0]!.length;
    const damaged: [string, Buffer, RegExp][] = [
      // A write cut short, and the next one appended to it: a glued line, lines after it.
      [
        'a torn line with lines after it',
        Buffer.concat([lines[0]!, lines[1]!.subarray(0, 10), ...lines.slice(2)]),
        /not a complete JSON record/,
      ],
      [
        'a torn line, then a line break and lines after it',
        Buffer.concat([lines[0]!, lines[1]!.subarray(0, 10), Buffer.from('\n'), ...lines.slice(2)]),
        /not a complete JSON record/,
      ],
      [
        'JSON that is not a record',
        Buffer.concat([lines[0]!, Buffer.from('{"x":1}\n'), ...lines.slice(2)]),
        /not a .* journal record/,
      ],
    ];
    for (const [name, content, reason] of damaged) {
      writeFileSync(path, content);
      const error = await refusal(journal, path);
      expect(error.message, name).toContain(`journal ${path}: line 2 (byte offset ${offset}) cannot be read`);
      expect(error.message, name).toMatch(reason);
      expect([error.path, error.line, error.offset], name).toEqual([path, 2, offset]);
      expect(readFileSync(path).equals(content), name).toBe(true);
    }
    // A last line that is whole JSON but no record of this journal: no write cut short left it.
    const lastOffset = bytes.length - lines.at(-1)!.length;
    const content = Buffer.concat([...lines.slice(0, -1), Buffer.from('[1,2,3]\n')]);
    writeFileSync(path, content);
    const error = await refusal(journal, path);
    expect([error.line, error.offset]).toEqual([lines.length, lastOffset]);
    expect(readFileSync(path).equals(content)).toBe(true);
  });

  it('names the line and byte offset a MiB and more into the journal, read in chunks', async () => {
    const path = fresh(journal.name);
    const store = journal.open(path);
    let i = 0;
    do await store.change(++i);
    while (statSync(path).size < 2.5 * (1 << 20));
    await store.close();
    const bytes = readFileSync(path);
    const lines = linesOf(bytes);
    let at = 0;
    const starts = lines.map((line) => (at += line.length) - line.length);
    // A line starting past the first MiB, and past the second.
    for (const mib of [1, 2]) {
      const k = starts.findIndex((start) => start > mib * (1 << 20));
      const offset = starts[k]!;
      const content = Buffer.concat([...lines.slice(0, k), Buffer.from('not json\n'), ...lines.slice(k + 1)]);
      writeFileSync(path, content);
      const error = await refusal(journal, path);
      expect([error.line, error.offset]).toEqual([k + 1, offset]);
    }
    // A torn last line past them.
    writeFileSync(path, Buffer.concat([bytes, Buffer.from('{"t":"ran')]));
    const reopened = journal.open(path);
    expect(reopened.torn).toMatchObject({ offset: bytes.length, line: lines.length + 1, bytes: 9 });
    await reopened.close();
    expect(statSync(path).size).toBe(bytes.length);
  });
});

const REPO = new URL('../..', import.meta.url).pathname;

/** A queue in a child process whose files may grow to `limit` bytes (RLIMIT_FSIZE: a disk that fills part-way through a line). */
function childQueue(path: string, limit: number) {
  const script = join(mkdtempSync(join(tmpdir(), 'lg-journal-child-')), 'queue.ts');
  const repo = REPO;
  writeFileSync(
    script,
    `import { JournalFlaggedQueue } from '${repo}services/adapters/files/journal-flagged-queue.ts';
import { unavailableStore } from '${repo}services/adapters/store-unavailable.ts';
import { flagged } from '${repo}test/console/fixtures.ts';
const queue = new JournalFlaggedQueue(${JSON.stringify(path)});
const publish = (id: string) =>
  queue.publish(flagged({ transactionId: id, flaggedAt: '2026-09-01T00:00:00.000Z' })).then(
    () => 'published',
    (e: Error) => e.name + ' (' + unavailableStore(e) + ')',
  );
const ids = ['tx-1', 'tx-2', 'tx-3', 'tx-4', 'tx-5'];
const full: string[] = [];
for (const id of ids) full.push(await publish(id));
console.log(JSON.stringify({ full, pending: await queue.pending() }));
// Until the parent frees the disk.
await new Promise((resolve) => process.stdin.once('data', resolve));
const freed: string[] = [];
for (const [i, id] of ids.entries()) if (full[i] !== 'published') freed.push(await publish(id));
console.log(JSON.stringify({ freed, pending: await queue.pending() }));
await queue.stop();
process.stdin.destroy();
`,
  );
  // Soft limit only: raised by the parent without privileges.
  return spawn('prlimit', [`--fsize=${limit}:unlimited`, process.execPath, script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

describe('the embedded flagged-decision journal when its disk fills', () => {
  it('queues no decision its journal did not take whole: refused unavailable, nothing half written, taken when retried', async () => {
    const path = fresh('flagged');
    const line = Buffer.byteLength(
      `${JSON.stringify({ add: flagged({ transactionId: 'tx-1', flaggedAt: '2026-09-01T00:00:00.000Z' }) })}\n`,
    );
    // Room for two decisions and half of the third.
    const child = childQueue(path, 2 * line + Math.floor(line / 2));
    onTestFinished(() => void (child.exitCode === null && child.kill()));
    const reports = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const full = JSON.parse((await reports.next()).value as string);
    expect(full).toEqual({
      full: ['published', 'published', ...Array(3).fill('JournalUnavailable (journal)')],
      pending: 2,
    });
    expect(statSync(path).size).toBe(2 * line);
    // The disk freed: the refused decisions are published again (as the flagged sink retries them).
    const lifted = spawnSync('prlimit', [`--pid=${child.pid}`, '--fsize=unlimited:unlimited']);
    expect(lifted.status, lifted.stderr?.toString()).toBe(0);
    child.stdin!.write('go on\n');
    const freed = JSON.parse((await reports.next()).value as string);
    expect(freed).toEqual({ freed: Array(3).fill('published'), pending: 5 });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(child.exitCode).toBe(0);
    const queue = new InspectedQueue(path);
    expect(queue.torn).toBeUndefined();
    expect(queue.ids()).toEqual(['tx-1', 'tx-2', 'tx-3', 'tx-4', 'tx-5'].map((id) => `m1/${id}`));
    await queue.stop();
  });

  it('takes no handled decision off the queue whose "done" its journal did not take: handed over again, nothing half written', async () => {
    const path = fresh('flagged');
    const line = Buffer.byteLength(
      `${JSON.stringify({ add: flagged({ transactionId: 'tx-1', flaggedAt: '2026-09-01T00:00:00.000Z' }) })}\n`,
    );
    const script = join(mkdtempSync(join(tmpdir(), 'lg-journal-child-')), 'done.ts');
    writeFileSync(
      script,
      `import { JournalFlaggedQueue } from '${REPO}services/adapters/files/journal-flagged-queue.ts';
import { flagged } from '${REPO}test/console/fixtures.ts';
const queue = new JournalFlaggedQueue(${JSON.stringify(path)}, { backoff: { initialMs: 10, maxMs: 10 } });
for (const id of ['tx-1', 'tx-2']) await queue.publish(flagged({ transactionId: id, flaggedAt: '2026-09-01T00:00:00.000Z' }));
const deliveries: string[][] = [];
const errors: string[] = [];
queue.start(async (batch) => void deliveries.push(batch.map((f) => f.transactionId)), (e) => errors.push((e as Error).name));
const end = Date.now() + 25_000; // ends at the third delivery: the bound is for a loaded machine
while (deliveries.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
await queue.stop();
console.log(JSON.stringify({ deliveries: deliveries.slice(0, 3), errors: errors.slice(0, 2), pending: await queue.pending() }));
`,
    );
    // Room for the two decisions and a few bytes of their "done" lines.
    const run = spawnSync('prlimit', [`--fsize=${2 * line + 10}:unlimited`, process.execPath, script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      deliveries: Array(3).fill(['tx-1', 'tx-2']),
      errors: ['JournalUnavailable', 'JournalUnavailable'],
      pending: 2,
    });
    expect(statSync(path).size).toBe(2 * line);
    const queue = new InspectedQueue(path);
    expect(queue.torn).toBeUndefined();
    expect(queue.ids()).toEqual(['m1/tx-1', 'm1/tx-2']);
    await queue.stop();
  }, 90_000);

  it('keeps its journal when a compaction cannot be written: what is published next is journaled, nothing lost', async () => {
    const path = fresh('flagged');
    const queue = new InspectedQueue(path, { backoff: { initialMs: 10, maxMs: 10 } });
    // The compaction's file aside cannot be made (a directory in its place).
    mkdirSync(`${path}.tmp`);
    const errors: unknown[] = [];
    const handled = new Set<string>();
    queue.start(
      async (batch) => void batch.forEach((f) => handled.add(f.transactionId)),
      (e) => errors.push(e),
    );
    for (let i = 0; i < 10_050; i++) await queue.publish(flagged({ transactionId: `c-${i}` }));
    await until(
      () => queue.pending(),
      (n) => n === 0,
      30_000,
    );
    expect(handled.size).toBe(10_050);
    await queue.publish(flagged({ transactionId: 'after' }));
    await until(
      async () => handled.has('after'),
      (done) => done,
      10_000,
    );
    await queue.publish(flagged({ transactionId: 'waiting' }));
    await queue.stop();
    expect(errors).toEqual([]);
    rmdirSync(`${path}.tmp`);
    const reopened = new InspectedQueue(path);
    expect(reopened.torn).toBeUndefined();
    expect(reopened.ids()).toEqual(['m1/waiting']);
    await reopened.stop();
  });
});
