// Embedded mode's durable queue: flagged decisions wait for PGlite in process, and every one is
// first appended to a journal file under the state directory, then marked done once it is a case.
// A crash (or a kill) between the answer and the case loses nothing: at the next start the
// decisions without a "done" line are queued again (case creation is idempotent, so one handled
// just before the crash is harmless). The journal is rewritten to the pending ones at start and
// whenever it holds many finished ones. Lines hold what a case holds: masked card, pseudonyms,
// sealed personal data (an older version's lines with them in clear are rewritten sealed at start).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { readJournal, type TornTail } from './journal-file.ts';
import { caseIdentity, type FlaggedDecision } from '../../cases/model.ts';
import { MemoryFlaggedQueue, validFlagged, type Backoff } from '../../cases/flagged.ts';

const COMPACT_AFTER = 10_000;
const idOf = (f: Pick<FlaggedDecision, 'merchantId' | 'transactionId'>) => caseIdentity(f.merchantId, f.transactionId);

export class JournalFlaggedQueue extends MemoryFlaggedQueue {
  override readonly kind = 'journal' as const;
  private readonly path: string;
  private fd: number;
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

  override async publish(flagged: FlaggedDecision): Promise<void> {
    // Written before it is queued: once publish returns, the decision survives the process.
    writeSync(this.fd, `${JSON.stringify({ add: flagged })}\n`);
    await super.publish(flagged);
  }

  protected override acknowledged(handled: readonly FlaggedDecision[]): void {
    writeSync(this.fd, handled.map((f) => `${JSON.stringify({ done: idOf(f) })}\n`).join(''));
    this.done += handled.length;
    if (this.done >= COMPACT_AFTER) {
      closeSync(this.fd);
      this.rewrite(this.items);
      this.fd = openSync(this.path, 'a', 0o600);
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    closeSync(this.fd);
  }
}
