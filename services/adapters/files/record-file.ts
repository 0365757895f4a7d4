// The embedded mode's recording: one NDJSON file per UTC day (`records-YYYY-MM-DD.ndjson`) under
// a folder, each gzip-compressed once its day is over (`.ndjson.gz`), files older than the
// retention deleted as days turn; and the reader a backtest uses, for one such file, a folder of
// them, or any NDJSON file of records (compressed or not).
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { RecordSink } from '../../recording/recorder.ts';
import type { RecordLine } from '../../recording/record.ts';

const FILE = /^records-(\d{4}-\d{2}-\d{2})\.ndjson(\.gz)?$/;
const DAY_MS = 86_400_000;
const GZIP = '.gz';

export const recordFileName = (at: number) => `records-${new Date(at).toISOString().slice(0, 10)}.ndjson`;

export class NdjsonRecordSink implements RecordSink {
  private readonly dir: string;
  private readonly retentionDays: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private pruned = '';
  /** The finished days being compressed, behind the writes (compressDaysBefore). */
  private compressing: Promise<string[]> | undefined;
  private readonly closing = new AbortController();

  constructor(dir: string, options: { retentionDays: number; now?: () => number; onError?: (error: unknown) => void }) {
    this.dir = dir;
    this.retentionDays = options.retentionDays;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
  }

  async write(lines: readonly RecordLine[]): Promise<void> {
    const now = this.now();
    const name = recordFileName(now);
    if (name !== this.pruned) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await this.prune(now);
      this.pruned = name;
      // Not awaited: a busy day's file takes minutes to compress, and the records keep coming.
      void this.compressed();
    }
    await appendFile(join(this.dir, name), lines.map((l) => `${l.json}\n`).join(''), { mode: 0o600 });
  }

  /**
   * Starts compressing the days before today, unless under way; resolves with the files made. A
   * failure is handed to onError and tried again when the next day turns (or at the next start).
   */
  compressed(): Promise<string[]> {
    this.compressing ??= this.compressDaysBefore(recordFileName(this.now()))
      .catch((error: unknown) => {
        if (!this.closing.signal.aborted) this.onError(error);
        return [];
      })
      .finally(() => (this.compressing = undefined));
    return this.compressing;
  }

  /**
   * Each finished day's file, gzip-compressed: a day of JSON of one shape takes about a fifth
   * (docs/backtest.md). Written aside (`.gz.partial`), renamed when whole, then the day's NDJSON
   * deleted: a reader meanwhile sees the day once or, for a moment, twice (a backtest keeps a
   * transaction's first scoring), never half. Stopped by close; what was cut short is redone.
   */
  private async compressDaysBefore(today: string): Promise<string[]> {
    const made: string[] = [];
    for (const f of (await readdir(this.dir).catch(() => [] as string[])).sort()) {
      if (!FILE.test(f) || f.endsWith(GZIP) || f >= today) continue;
      const from = join(this.dir, f);
      const partial = `${from}${GZIP}.partial`;
      await pipeline(createReadStream(from), createGzip(), createWriteStream(partial, { mode: 0o600 }), {
        signal: this.closing.signal,
      });
      await rename(partial, `${from}${GZIP}`);
      await rm(from, { force: true });
      made.push(`${f}${GZIP}`);
    }
    return made;
  }

  /** Deletes the days that fell out of the retention (by the file's day, not its contents), compressed or not. */
  async prune(now = this.now()): Promise<string[]> {
    const oldest = new Date(now - this.retentionDays * DAY_MS).toISOString().slice(0, 10);
    const removed: string[] = [];
    for (const f of await readdir(this.dir).catch(() => [] as string[])) {
      const day = FILE.exec(f)?.[1];
      if (day && day < oldest) {
        await rm(join(this.dir, f), { force: true });
        removed.push(f);
      }
    }
    return removed;
  }

  /** Stops a compression under way (its day stays as NDJSON until the next start compresses it). */
  async close(): Promise<void> {
    this.closing.abort();
    await this.compressing;
  }
}

/** The NDJSON files a path names: itself, or a folder's `*.ndjson` and `*.ndjson.gz` in name (day) order. */
export async function recordFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => f.endsWith('.ndjson') || f.endsWith(`.ndjson${GZIP}`))
    .sort()
    .map((f) => join(path, f));
}

export interface NdjsonLine {
  file: string;
  line: number;
  text: string;
  /** Bytes read of all the files so far, for a progress bar. */
  bytesRead: number;
}

/** Every non-empty line of the files (a `.gz` one decompressed), with where it came from (for precise errors). */
export async function* ndjsonLines(files: readonly string[]): AsyncGenerator<NdjsonLine> {
  let before = 0;
  for (const file of files) {
    const stream = createReadStream(file);
    let input: NodeJS.ReadableStream = stream;
    if (file.endsWith(GZIP)) {
      const gunzip = createGunzip();
      // The file's own errors (unreadable) end the lines as a corrupt stream's do.
      stream.on('error', (error) => gunzip.destroy(error));
      input = stream.pipe(gunzip);
    }
    const lines = createInterface({ input, crlfDelay: Infinity });
    let line = 0;
    try {
      for await (const read of lines) {
        line++;
        // A byte-order mark (an editor's or a spreadsheet's) is not part of the first line.
        const text = line === 1 && read.startsWith('\ufeff') ? read.slice(1) : read;
        if (text.trim() === '') continue;
        yield { file, line, text, bytesRead: before + stream.bytesRead };
      }
    } catch (error) {
      // A file that stops being readable (a damaged or truncated .gz, a read error): named, with the
      // line it was reading, as a refused line is. The message is zlib's or the system's, never data.
      const e = error as NodeJS.ErrnoException;
      throw Object.assign(
        new Error(
          `${file}:${line + 1}: cannot be read (${e.message})${e.code?.startsWith('Z_') ? ': the file is damaged or not what its name says' : ''}`,
          { cause: error },
        ),
        e.code === undefined ? {} : { code: e.code },
      );
    }
    before += (await stat(file)).size;
  }
}

export async function totalBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  return total;
}
