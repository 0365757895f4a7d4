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
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { caseIdentity, type FlaggedDecision } from '../../cases/model.ts';
import { MemoryFlaggedQueue, validFlagged, type Backoff } from '../../cases/flagged.ts';

const COMPACT_AFTER = 10_000;
const idOf = (f: Pick<FlaggedDecision, 'merchantId' | 'transactionId'>) => caseIdentity(f.merchantId, f.transactionId);

export class JournalFlaggedQueue extends MemoryFlaggedQueue {
  override readonly kind = 'journal' as const;
  private readonly path: string;
  private fd: number;
  private done = 0;
  /** Lines that could not be read back (a torn last line after a crash). */
  readonly unreadable: number;

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
    this.unreadable = read.unreadable;
    this.items.push(...pending);
    this.rewrite(pending);
    this.fd = openSync(path, 'a', 0o600);
  }

  private static read(path: string): { pending: FlaggedDecision[]; unreadable: number } {
    if (!existsSync(path)) return { pending: [], unreadable: 0 };
    const waiting = new Map<string, FlaggedDecision>();
    let unreadable = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as { add?: unknown; done?: string };
        if (typeof entry.done === 'string') waiting.delete(entry.done);
        else {
          const flagged = validFlagged(entry.add);
          if (flagged) waiting.set(idOf(flagged), flagged);
          else unreadable++;
        }
      } catch {
        unreadable++;
      }
    }
    return { pending: [...waiting.values()], unreadable };
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
