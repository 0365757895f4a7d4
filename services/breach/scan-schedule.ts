// The periodic breach scan, taken in turn: every engine runs the timer, and at each tick the one
// that takes the turn (CardHistoryStore.takeScanTurn) scans while the others skip. A deployment
// of many engines then scans once per interval, as one, instead of once per engine: each scan
// reads every fraudulent card of its 30 days and holds them (docs/capacity.md, "What breaks
// first"). An engine that stops or fails leaves its turn to expire: the next tick after that,
// whichever engine's comes first, takes it.
import type { CardHistoryStore } from './history.ts';
import type { ScanReport } from './scanner.ts';

/**
 * A turn lasts this share of the interval: over before its holder's next tick, which takes it
 * again (so the same engine keeps scanning while it runs) unless another engine's tick came first.
 */
export const SCAN_TURN_SHARE = 0.9;

export class ScanSchedule {
  private readonly history: CardHistoryStore;
  private readonly scan: () => Promise<ScanReport>;
  private readonly holder: string;
  private readonly everyMs: number;

  /** `holder`: this engine's name in the store while it has the turn; `everyMs`: the interval between ticks. */
  constructor(
    history: CardHistoryStore,
    scan: () => Promise<ScanReport>,
    options: { holder: string; everyMs: number },
  ) {
    this.history = history;
    this.scan = scan;
    this.holder = options.holder;
    this.everyMs = options.everyMs;
  }

  /** One tick: the report of the scan it ran, or undefined when another engine has the turn. */
  async tick(): Promise<ScanReport | undefined> {
    if (!(await this.history.takeScanTurn(this.holder, SCAN_TURN_SHARE * this.everyMs))) return undefined;
    return this.scan();
  }
}
