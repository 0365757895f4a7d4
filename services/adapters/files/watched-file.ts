// A file whose parsed content is in force: loaded at start-up (a file that does not load stops
// the start), re-read when it changes, on SIGHUP or on request. A new version that does not load
// is refused and the one in force stays, so a bad deploy never disarms scoring. The switch is one
// reference swap: whoever read the content before keeps a consistent copy.
import { unwatchFile, watchFile } from 'node:fs';
import { LeakguardError, type IssueDetail } from '../../core/errors.ts';

/** `warning`: loaded, but something the operator should know (a ruleset changed under the same version). */
/** `details`: a refusal's problems by path, when the loader names them (a ruleset's). */
export type ReloadResult =
  { ok: true; version: string; warning?: string } | { ok: false; error: string; details?: IssueDetail[] | undefined };
/** The last reload and when: a refused one means the file on disk is not the one in force. */
export type ReloadOutcome = ({ ok: true; version: string; warning?: string } | { ok: false; error: string }) & {
  at: string;
};

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
      const previous = this.current;
      const next = this.load(this.path);
      this.refuseChange(previous, next);
      this.current = next;
      const warning = this.changeWarning(previous, this.current);
      result = { ok: true, version: this.versionOf(this.current), ...(warning ? { warning } : {}) };
    } catch (error) {
      const details = error instanceof LeakguardError ? error.details : undefined;
      result = { ok: false, error: (error as Error).message, ...(details ? { details } : {}) };
    }
    // Kept, not only logged: a refused file stays on disk and would stop the next start-up.
    const at = new Date().toISOString();
    this.last = result.ok ? { ...result, at } : { ok: false, error: result.error, at };
    this.onReload(result);
    return result;
  }

  /** Throws to refuse `next`, valid on its own, in place of `previous` (the one in force stays). */
  protected refuseChange(_previous: T, _next: T): void {}

  /** What to warn of when `next` replaces `previous` (undefined: nothing). */
  protected changeWarning(_previous: T, _next: T): string | undefined {
    return undefined;
  }

  /** The last reload since start-up (undefined: none yet). */
  get lastReload(): ReloadOutcome | undefined {
    return this.last;
  }

  /**
   * Re-reads the file once it has stayed unchanged for `settleMs` after a change: a poll can land
   * while an editor or a copy is still writing it, and a file cut at the end of a whole entry may
   * well validate (a ruleset cut after its sixth rule did). Writing the new file aside and renaming
   * it into place is what rules a half-written file out; the settle delay covers a plain save.
   */
  watch(intervalMs = 1000, settleMs = 2 * intervalMs): () => void {
    let settling: NodeJS.Timeout | undefined;
    const listener = () => {
      clearTimeout(settling);
      settling = setTimeout(() => this.reload(), settleMs);
      settling.unref();
    };
    watchFile(this.path, { interval: intervalMs }, listener);
    return () => {
      clearTimeout(settling);
      unwatchFile(this.path, listener);
    };
  }
}
