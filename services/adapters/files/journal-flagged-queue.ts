// Embedded mode's durable queue: flagged decisions wait for PGlite in process, and every one is
// first appended to a journal file under the state directory, then marked done once it is a case.
// A crash (or a kill) between the answer and the case loses nothing: at the next start the
// decisions without a "done" line are queued again (case creation is idempotent, so one handled
// just before the crash is harmless). The journal is rewritten to the pending ones at start and
// whenever it holds many finished ones. Lines hold what a case holds: masked card, pseudonyms,
// sealed personal data (an older version's lines with them in clear are rewritten sealed at start).
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { readJournal, type TornTail } from './journal-file.ts';
import { JournalUnavailable } from '../store-unavailable.ts';
import { caseIdentity, type FlaggedDecision } from '../../cases/model.ts';
import { MemoryFlaggedQueue, validFlagged, type Backoff } from '../../cases/flagged.ts';

const COMPACT_AFTER = 10_000;
const idOf = (f: Pick<FlaggedDecision, 'merchantId' | 'transactionId'>) => caseIdentity(f.merchantId, f.transactionId);

export class JournalFlaggedQueue extends MemoryFlaggedQueue {
  override readonly kind = 'journal' as const;
  private readonly path: string;
  /** The journal open for appending; undefined after a compaction until the next append opens it. */
  private fd: number | undefined;
  private done = 0;
  /** The incomplete last line dropped from the journal at start (a write cut short by a crash): to be logged. */
  readonly torn: TornTail | undefined;

  /** `protect`: applied to what is read back at start before the journal is rewritten (seals personal data an older version wrote in clear). */
  constructor(
    path: string,
    options: { backoff?: Backoff; protect?: (flagged: FlaggedDecision) => FlaggedDecision } = {},
  ) {
    // No in-memory limit: the journal holds what waits, nothing is dropped.
    super({ limit: Number.POSITIVE_INFINITY, ...(options.backoff ? { backoff: options.backoff } : {}) });
    this.path = path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const read = JournalFlaggedQueue.read(path);
    const pending = options.protect ? read.pending.map(options.protect) : read.pending;
    this.torn = read.torn;
    this.items.push(...pending);
    this.rewrite(pending);
    this.fd = openSync(path, 'a', 0o600);
  }

  /**
   * The decisions the journal holds that are not done. A torn last line (a crash mid-write) is
   * dropped and returned; any other line that is not a record throws JournalCorrupt: the queue does
   * not start on part of the journal (its rewrite at start would delete the rest for good).
   */
  private static read(path: string): { pending: FlaggedDecision[]; torn: TornTail | undefined } {
    if (!existsSync(path)) return { pending: [], torn: undefined };
    const waiting = new Map<string, FlaggedDecision>();
    const torn = readJournal(path, (value) => {
      if (typeof value !== 'object' || value === null) return 'not a flagged journal record';
      const entry = value as { add?: unknown; done?: unknown };
      if ('done' in entry) {
        if (typeof entry.done !== 'string') return 'a "done" record without the decision it ends';
        waiting.delete(entry.done);
        return undefined;
      }
      if (!('add' in entry)) return 'not a flagged journal record';
      const flagged = validFlagged(entry.add);
      if (!flagged) return 'an "add" record that does not hold a flagged decision';
      waiting.set(idOf(flagged), flagged);
      return undefined;
    });
    return { pending: [...waiting.values()], torn };
  }

  /** Replaces the journal by the pending decisions only (written aside, then renamed). */
  private rewrite(pending: readonly FlaggedDecision[]): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, pending.map((f) => `${JSON.stringify({ add: f })}\n`).join(''), { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.done = 0;
  }

  /**
   * Appends lines whole, or not at all: a write the disk takes only in part (full part-way through
   * a line, which writeSync reports as fewer bytes written, not an error) is continued, and one
   * that fails is cut back off, or the next line would continue it and the journal could not be
   * read at the next start. Throws JournalUnavailable when the journal cannot be written.
   */
  private append(lines: string): void {
    let size: number | undefined;
    try {
      this.fd ??= openSync(this.path, 'a', 0o600);
      size = fstatSync(this.fd).size;
      const bytes = Buffer.from(lines);
      for (let at = 0; at < bytes.length;) {
        const written = writeSync(this.fd, bytes, at);
        if (written <= 0) throw Object.assign(new Error('journal write made no progress'), { code: 'EIO' });
        at += written;
      }
    } catch (error) {
      if (size !== undefined)
        try {
          ftruncateSync(this.fd!, size);
        } catch {
          // Nothing more to do here: the journal is not writable.
        }
      throw new JournalUnavailable(error, 'flagged-decision');
    }
  }

  override async publish(flagged: FlaggedDecision): Promise<void> {
    // Written before it is queued: once publish returns, the decision survives the process; one
    // the journal did not take is not queued (the flagged sink holds it and publishes it again).
    this.append(`${JSON.stringify({ add: flagged })}\n`);
    await super.publish(flagged);
  }

  protected override acknowledged(handled: readonly FlaggedDecision[]): void {
    // Throws when not journaled: the decisions stay queued and are handed over again (a case is
    // made once however often its decision is handled).
    this.append(handled.map((f) => `${JSON.stringify({ done: idOf(f) })}\n`).join(''));
    this.done += handled.length;
    if (this.done >= COMPACT_AFTER) this.compact(this.items.slice(handled.length));
  }

  /**
   * The journal rewritten to what still waits, aside and then renamed, the file it replaced closed
   * after. One that cannot be written (the disk full) leaves the journal as it was, still complete,
   * and is tried again at the next acknowledgement; the decisions are not handed over again for it.
   */
  private compact(pending: readonly FlaggedDecision[]): void {
    try {
      this.rewrite(pending);
    } catch {
      // What was written aside, if anything, is given back to the disk.
      try {
        rmSync(`${this.path}.tmp`, { force: true });
      } catch {
        // Overwritten by the next attempt.
      }
      return;
    }
    // The descriptor still names the file before the rename: the next append opens the new one.
    const old = this.fd;
    this.fd = undefined;
    if (old !== undefined) closeSync(old);
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
