// A file whose parsed content is in force: loaded at start-up (a file that does not load stops
// the start), re-read when it changes, on SIGHUP or on request. A new version that does not load
// is refused and the one in force stays, so a bad deploy never disarms scoring. The switch is one
// reference swap: whoever read the content before keeps a consistent copy.
import { unwatchFile, watchFile } from 'node:fs';

export type ReloadResult = { ok: true; version: string } | { ok: false; error: string };
/** The last reload and when: a refused one means the file on disk is not the one in force. */
export type ReloadOutcome = ReloadResult & { at: string };

export class WatchedFile<T> {
  protected current: T;
  readonly path: string;
  private readonly load: (path: string) => T;
  private readonly versionOf: (content: T) => string;
  private readonly onReload: (result: ReloadResult) => void;
  private last: ReloadOutcome | undefined;

  constructor(
    path: string,
    load: (path: string) => T,
    versionOf: (content: T) => string,
    onReload: (result: ReloadResult) => void = () => {},
  ) {
    this.path = path;
    this.load = load;
    this.versionOf = versionOf;
    this.onReload = onReload;
    this.current = load(path);
  }

  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      this.current = this.load(this.path);
      result = { ok: true, version: this.versionOf(this.current) };
    } catch (error) {
      result = { ok: false, error: (error as Error).message };
    }
    // Kept, not only logged: a refused file stays on disk and would stop the next start-up.
    this.last = { ...result, at: new Date().toISOString() };
    this.onReload(result);
    return result;
  }

  /** The last reload since start-up (undefined: none yet). */
  get lastReload(): ReloadOutcome | undefined {
    return this.last;
  }

  watch(intervalMs = 1000): () => void {
    const listener = () => this.reload();
    watchFile(this.path, { interval: intervalMs }, listener);
    return () => unwatchFile(this.path, listener);
  }
}
