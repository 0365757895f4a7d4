// Signed checkpoints of the audit log's head. The chain proves that no entry was edited or taken
// out of the middle, but whoever holds the database's credentials can disable the trigger, cut
// the last entries and leave a shorter chain that still verifies; or rewrite it whole, since its
// hash is unkeyed. A checkpoint says "the log reached #N with hash H at time T", signed with
// HMAC-SHA-256 under a key the database never sees, appended to a file its credentials cannot
// reach. `verify` then names what was cut or rewritten since.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import {
  canonicalJson,
  type AuditLog,
  type Checkpoint,
  type CheckpointReading,
  type CheckpointSource,
} from './audit.ts';

export const CHECKPOINT_INTERVAL_MS = 5_000;

export interface AuditKey {
  id: string;
  secret: Buffer;
}

// Domain separation: a signature made for anything else under the same key is never a checkpoint.
const DOMAIN = 'leakguard-audit-checkpoint:v1\n';
const HASH = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function signature(key: AuditKey, c: Checkpoint): Buffer {
  return createHmac('sha256', key.secret)
    .update(DOMAIN)
    .update(canonicalJson({ seq: c.seq, hash: c.hash, at: c.at, by: c.by, key: c.keyId }))
    .digest();
}

/** One NDJSON line: `{"seq","hash","at","by","key","sig"}`. */
export function checkpointLine(
  key: AuditKey,
  head: { seq: number; hash: string },
  by: string,
  at: Date = new Date(),
): { line: string; checkpoint: Checkpoint } {
  const checkpoint: Checkpoint = { seq: head.seq, hash: head.hash, at: at.toISOString(), by, keyId: key.id };
  const sig = signature(key, checkpoint).toString('hex');
  return {
    checkpoint,
    line: `${JSON.stringify({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, by, key: key.id, sig })}\n`,
  };
}

/** A line read back: the checkpoint when its signature holds, else why it cannot be trusted. */
export function readCheckpointLine(
  key: AuditKey,
  line: string,
  where: string,
): { checkpoint: Checkpoint } | { seq?: number; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { reason: `${where} is not a checkpoint (not JSON): the file was edited or a write was cut short` };
  }
  const raw = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const seq = Number.isSafeInteger(raw.seq) && (raw.seq as number) > 0 ? (raw.seq as number) : undefined;
  if (
    seq === undefined ||
    typeof raw.hash !== 'string' ||
    !HASH.test(raw.hash) ||
    typeof raw.at !== 'string' ||
    !ISO_TIME.test(raw.at) ||
    typeof raw.by !== 'string' ||
    typeof raw.key !== 'string' ||
    typeof raw.sig !== 'string'
  ) {
    return { ...(seq ? { seq } : {}), reason: `${where} is not a well-formed checkpoint: the file was edited` };
  }
  const checkpoint: Checkpoint = { seq, hash: raw.hash, at: raw.at, by: raw.by, keyId: raw.key };
  const claim = `${where} (checkpoint of ${raw.at}, #${seq})`;
  if (raw.key !== key.id) {
    return {
      seq,
      reason: `${claim} is signed with key ${JSON.stringify(raw.key)}, not with this audit key (${key.id}): check it with the key that wrote it, or the file was edited`,
    };
  }
  const sig = HASH.test(raw.sig) ? Buffer.from(raw.sig, 'hex') : Buffer.alloc(0);
  const expected = signature(key, checkpoint);
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) {
    return {
      seq,
      reason: `${claim} has a bad signature: it was not signed with the audit key, so the file was edited`,
    };
  }
  return { checkpoint };
}

/** The append-only checkpoint file: lines are only ever added (O_APPEND), never rewritten. */
export class CheckpointFile implements CheckpointSource {
  readonly path: string;
  private readonly key: AuditKey;

  constructor(path: string, key: AuditKey) {
    this.path = path;
    this.key = key;
  }

  get keyId(): string {
    return this.key.id;
  }

  async append(head: { seq: number; hash: string }, by: string, at?: Date): Promise<Checkpoint> {
    const { line, checkpoint } = checkpointLine(this.key, head, by, at);
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    // One write of one short line on an O_APPEND descriptor: writers (engines, CLIs) never interleave.
    const file = await open(this.path, 'a', 0o600);
    try {
      await file.write(line);
      await file.datasync();
    } finally {
      await file.close();
    }
    return checkpoint;
  }

  async read(): Promise<CheckpointReading> {
    const reading: CheckpointReading = { file: this.path, valid: [], problems: [] };
    const input = createReadStream(this.path, { encoding: 'utf8' });
    const missing = new Promise<boolean>((resolve) => {
      input.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT'));
      input.once('open', () => resolve(false));
    });
    if (await missing) return { ...reading, missing: true };
    let n = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      if (line.trim() === '') continue;
      const r = readCheckpointLine(this.key, line, `line ${n} of ${this.path}`);
      if ('checkpoint' in r) reading.valid.push(r.checkpoint);
      else reading.problems.push(r);
    }
    return reading;
  }
}

/** The furthest checkpoint of a reading (the first written, of several at one seq). */
export function furthest(valid: Checkpoint[]): Checkpoint | undefined {
  let best: Checkpoint | undefined;
  for (const c of valid) if (!best || c.seq > best.seq) best = c;
  return best;
}

export const writerName = (who: string) => `${who}@${hostname()}`;

/**
 * Writes a checkpoint whenever the log's head moved since this writer's last one, and raises an
 * alarm at once when the log no longer holds what that checkpoint signed (cut, or rewritten):
 * the operator hears of it within seconds, not at the next `verify`.
 */
export class AuditCheckpointer {
  private last: Checkpoint | undefined;
  private readonly audit: AuditLog;
  private readonly file: CheckpointFile;
  private readonly by: string;
  private readonly onAlarm: (message: string) => void;
  private readonly onWarning: (message: string) => void;
  private readonly headBefore: { seq: number; hash: string } | null | undefined;

  constructor(o: {
    audit: AuditLog;
    file: CheckpointFile;
    by: string;
    onAlarm: (message: string) => void;
    /** Nothing tampered found, but nothing to judge by either: the file is missing, or holds none. */
    onWarning?: (message: string) => void;
    /**
     * The log's head before this process first appended to it (null: the log was empty), when it
     * appends before its first checkpoint: the entries it wrote itself are no cause for a warning.
     */
    headBefore?: { seq: number; hash: string } | null;
  }) {
    this.audit = o.audit;
    this.file = o.file;
    this.by = o.by;
    this.onAlarm = o.onAlarm;
    this.onWarning = o.onWarning ?? o.onAlarm;
    this.headBefore = o.headBefore;
  }

  /**
   * Starts from the file's furthest checkpoint: a log cut while nothing was running is noticed now.
   * A log with entries but no checkpoint in the file (a file moved, lost, or another one than
   * before: another user's home, DATABASE_URL's host spelt otherwise) is warned of: whatever was
   * cut before now cannot be seen, and `npm run audit -- verify` run with the old file will not
   * know of the checkpoints written from now on. Only the entries before this process's own
   * (`headBefore`): a fresh deployment's first writer checkpoints what it wrote without a warning.
   */
  async resume(): Promise<void> {
    const reading = await this.file.read();
    for (const p of reading.problems) this.onAlarm(p.reason);
    this.last = furthest(reading.valid);
    if (this.last || reading.problems.length > 0) return;
    const head = this.headBefore === undefined ? await this.audit.head() : this.headBefore;
    if (!head) return;
    const where = reading.missing ? `no checkpoint file ${this.file.path}` : `no checkpoint in ${this.file.path}`;
    this.onWarning(
      `${where}, but the audit log already holds entries up to #${head.seq}: a cut before now cannot be seen. If checkpoints were written before, point LEAKGUARD_AUDIT_CHECKPOINT_FILE (and LEAKGUARD_AUDIT_KEY) at them; checkpoints are written to this file from now on`,
    );
  }

  /** One pass; returns the checkpoint written, or null when the head has not moved. */
  async pass(): Promise<Checkpoint | null> {
    const head = await this.audit.head();
    const last = this.last;
    if (last) {
      if (!head || head.seq < last.seq) {
        const end = head ? `the log ends at #${head.seq}` : 'the log is empty';
        this.onAlarm(
          `${end} but the checkpoint of ${last.at} signed #${last.seq}: entries #${(head?.seq ?? 0) + 1}..#${last.seq} were removed`,
        );
      } else if (head.seq === last.seq && head.hash === last.hash) {
        return null;
      } else if ((head.seq === last.seq ? head.hash : await this.audit.hashAt(last.seq)) !== last.hash) {
        this.onAlarm(
          `entry #${last.seq} no longer has the hash the checkpoint of ${last.at} signed: the log was rewritten`,
        );
      }
    }
    if (!head) return null;
    // Written even after an alarm: the new checkpoint does not hide the old one, which still proves the cut.
    this.last = await this.file.append(head, this.by);
    return this.last;
  }
}

/**
 * `resume`, a pass now, then one every `intervalMs`; `stop` ends the timer and makes one last pass
 * (what was appended since the previous one, on shutdown).
 */
export function startCheckpoints(
  checkpointer: AuditCheckpointer,
  onError: (error: unknown) => void,
  intervalMs = CHECKPOINT_INTERVAL_MS,
): { ready: Promise<void>; stop(): Promise<void> } {
  let running: Promise<unknown> = checkpointer.resume().catch(onError);
  const pass = () => (running = running.then(() => checkpointer.pass()).catch(onError)).then(() => {});
  const ready = pass();
  const timer = setInterval(() => void pass(), intervalMs);
  timer.unref();
  return {
    ready,
    stop() {
      clearInterval(timer);
      return pass();
    },
  };
}
