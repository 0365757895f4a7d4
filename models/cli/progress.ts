// Progress of long CLI work on stderr: a bar on a terminal; elsewhere (a log file, CI, `nohup`) a
// plain line every ~10 s, since cli-progress writes nothing when stderr is not a TTY and hours of
// training would look hung.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted: "trees", "days", "transactions". */
  unit: string;
  /** Default: process.stderr. */
  stream?: { isTTY?: boolean; write(text: string): unknown };
  /** Seconds between plain lines (default 10). */
  everySeconds?: number;
  /** Milliseconds (default performance.now). */
  now?: () => number;
  /** Bar only: the format after the bar (cli-progress tokens), and their first values. */
  barSuffix?: string;
  payload?: Record<string, string | number>;
  /** Where the count starts (work resumed). */
  from?: number;
}

const duration = (seconds: number): string => {
  const s = Math.round(seconds);
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m ${s % 60}s`
      : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
};

export function progress(label: string, total: number, o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} ${o.unit}${o.barSuffix ?? ''} | {duration_formatted} | eta {eta_formatted}`,
        stream: stream as NodeJS.WriteStream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, o.from ?? 0, o.payload ?? {});
    return { update: (done, payload) => bar.update(done, payload), stop: () => bar.stop() };
  }
  const now = o.now ?? (() => performance.now());
  const every = (o.everySeconds ?? 10) * 1000;
  const started = now();
  let last = started,
    done = o.from ?? 0,
    stopped = false;
  const line = (final: boolean) => {
    const elapsed = (now() - started) / 1000;
    const pct = total > 0 ? ` (${Math.floor((100 * done) / total)} %)` : '';
    const eta = !final && done > 0 && done < total ? `, about ${duration((elapsed * (total - done)) / done)} left` : '';
    stream.write(
      `${label}: ${done}/${total} ${o.unit}${pct}, ${duration(elapsed)}${final ? ' in all' : ' elapsed'}${eta}\n`,
    );
  };
  return {
    update: (d) => {
      done = d;
      const t = now();
      if (t - last >= every) {
        last = t;
        line(false);
      }
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      line(true);
    },
  };
}
