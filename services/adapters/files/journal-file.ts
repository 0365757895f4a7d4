// Reading back an embedded store's append-only journal (one JSON record a line). A crash (kill -9,
// power loss) part-way through an append leaves a torn last line: the record whose write never
// completed, so never acknowledged. It is dropped, said (the file and its byte offset), and cut off
// the file, so that the next append starts a line of its own rather than continuing it. Anything
// else that cannot be read — a line in the middle, a last line that is whole JSON but not a record —
// stops the start with the file, the line and the reason: a journal is never silently read in part.
import { closeSync, openSync, readSync, truncateSync } from 'node:fs';

/** The torn last line dropped from a journal when it was read. */
export interface TornTail {
  path: string;
  /** Where the dropped line began, in bytes from the start of the file (the file's length now). */
  offset: number;
  /** Its line number, from 1. */
  line: number;
  /** How many bytes were dropped. */
  bytes: number;
  reason: string;
}

/** What the warning of a torn tail says. */
export function tornTailMessage(torn: TornTail): string {
  return `journal ${torn.path}: dropped its incomplete last line (line ${torn.line}, byte offset ${torn.offset}, ${torn.bytes} bytes: ${torn.reason}), left by a write cut short (a crash or a kill); the file is cut back to its last complete line`;
}

/** A journal that cannot be read whole: the engine does not start on part of its state. */
export class JournalCorrupt extends Error {
  override readonly name = 'JournalCorrupt';
  readonly path: string;
  readonly line: number;
  readonly offset: number;
  constructor(path: string, line: number, offset: number, reason: string) {
    super(
      `journal ${path}: line ${line} (byte offset ${offset}) cannot be read: ${reason}; lines follow it, so it is not a write cut short by a crash and the journal is not read in part: restore the file from a backup, or repair or remove that line knowing what it held`,
    );
    this.path = path;
    this.line = line;
    this.offset = offset;
  }
}

const CHUNK = 1 << 20;
const NOT_JSON = 'not a complete JSON record';

/**
 * Hands each record of the journal to `record`, in order, reading it a MiB at a time (read whole
 * as one string, a journal of millions of records passes the longest string V8 makes, ~512 MiB).
 * `record` returns why a parsed value is not a record of this journal, or undefined when it took
 * it. Blank lines are skipped. A torn last line (no line break at its end, or not JSON and nothing
 * after it) is cut off the file and returned; any other line that cannot be read throws
 * JournalCorrupt, after the records before it were handed over.
 */
export function readJournal(path: string, record: (value: unknown) => string | undefined): TornTail | undefined {
  // A line that is not JSON: torn if nothing follows it, else corrupt (thrown at the next line).
  let unparsed: { line: number; offset: number } | undefined;
  let line = 0;
  // Bytes of the file before `rest`.
  let consumed = 0;
  let rest = Buffer.alloc(0);
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (let n: number; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
      const data = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
        line++;
        const text = data.toString('utf8', start, nl);
        const offset = consumed + start;
        start = nl + 1;
        if (text.trim() === '') continue;
        if (unparsed) throw new JournalCorrupt(path, unparsed.line, unparsed.offset, NOT_JSON);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          // Never the parser's message: it quotes the line.
          unparsed = { line, offset };
          continue;
        }
        const refused = record(value);
        if (refused !== undefined) throw new JournalCorrupt(path, line, offset, refused);
      }
      // The part after the last line break waits for the next chunk (copied: the chunk is reused).
      consumed += start;
      rest = Buffer.from(data.subarray(start));
    }
  } finally {
    closeSync(fd);
  }
  let torn: TornTail | undefined;
  if (rest.length > 0) {
    if (unparsed) throw new JournalCorrupt(path, unparsed.line, unparsed.offset, NOT_JSON);
    torn = { path, offset: consumed, line: line + 1, bytes: rest.length, reason: 'no line break at its end' };
  } else if (unparsed) {
    torn = { path, offset: unparsed.offset, line: unparsed.line, bytes: consumed - unparsed.offset, reason: NOT_JSON };
  }
  if (torn) truncateSync(path, torn.offset);
  return torn;
}
