// The embedded mode's recording: one NDJSON file per UTC day (`records-YYYY-MM-DD.ndjson`) under
// a folder, files older than the retention deleted as days turn; and the reader a backtest uses,
// for one such file, a folder of them, or any NDJSON file of records.
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RecordSink } from '../../recording/recorder.ts';
import type { RecordLine } from '../../recording/record.ts';

const FILE = /^records-(\d{4}-\d{2}-\d{2})\.ndjson$/;
const DAY_MS = 86_400_000;

export const recordFileName = (at: number) => `records-${new Date(at).toISOString().slice(0, 10)}.ndjson`;

export class NdjsonRecordSink implements RecordSink {
  private readonly dir: string;
  private readonly retentionDays: number;
  private readonly now: () => number;
  private pruned = '';

  constructor(dir: string, options: { retentionDays: number; now?: () => number }) {
    this.dir = dir;
    this.retentionDays = options.retentionDays;
    this.now = options.now ?? Date.now;
  }

  async write(lines: readonly RecordLine[]): Promise<void> {
    const now = this.now();
    const name = recordFileName(now);
    if (name !== this.pruned) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await this.prune(now);
      this.pruned = name;
    }
    await appendFile(join(this.dir, name), lines.map((l) => `${l.json}\n`).join(''), { mode: 0o600 });
  }

  /** Deletes the days that fell out of the retention (by the file's day, not its contents). */
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

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The NDJSON files a path names: itself, or a folder's `*.ndjson` in name (day) order. */
export async function recordFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => f.endsWith('.ndjson'))
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

/** Every non-empty line of the files, with where it came from (for precise errors). */
export async function* ndjsonLines(files: readonly string[]): AsyncGenerator<NdjsonLine> {
  let before = 0;
  for (const file of files) {
    const stream = createReadStream(file);
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      yield { file, line, text, bytesRead: before + stream.bytesRead };
    }
    before += (await stat(file)).size;
  }
}

export async function totalBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  return total;
}
