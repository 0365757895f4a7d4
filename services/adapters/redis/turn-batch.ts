// Writes that may wait until the event loop's turn ends, sent together. What concludes from one
// read of a socket (the replies Redis sent together, a stream batch's scorings) is issued in one
// turn: collected here and handed over once that turn's I/O callbacks and their promise chains
// have run (setImmediate), as one call instead of one each. Below saturation a turn concludes one
// scoring, so a batch may also gather for a few milliseconds (gatherMs): the writes of the turns
// in between then go in its call.

export class TurnBatch<T> {
  private items: T[] = [];
  private settlers: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private readonly send: (items: T[]) => Promise<unknown>;
  private readonly max: number;
  private readonly gatherMs: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * `send` takes at most `max` items a call; a turn that issues more makes several calls. With
   * `gatherMs`, the first item waits that long for others (or until `max` wait), not only its turn.
   */
  constructor(send: (items: T[]) => Promise<unknown>, max: number, gatherMs = 0) {
    this.send = send;
    this.max = max;
    this.gatherMs = gatherMs;
  }

  /** Settles when the call that carried the item is answered (rejects with its error). */
  add(item: T): Promise<void> {
    if (this.items.length === 0) {
      if (this.gatherMs > 0) this.timer = setTimeout(() => this.flush(), this.gatherMs);
      else setImmediate(() => this.flush());
    }
    const settled = new Promise<void>((resolve, reject) => this.settlers.push({ resolve, reject }));
    this.items.push(item);
    if (this.items.length >= this.max) this.flush();
    return settled;
  }

  /** Sends what waits now, and settles when every call made so far is answered (before closing a connection). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const items = this.items,
      settlers = this.settlers;
    this.items = [];
    this.settlers = [];
    const call = this.send(items).then(
      () => settlers.forEach((s) => s.resolve()),
      (error: unknown) => settlers.forEach((s) => s.reject(error)),
    );
    this.inFlight.add(call);
    void call.finally(() => this.inFlight.delete(call));
  }
}
