// Writes that may wait until the event loop's turn ends, sent together. What concludes from one
// read of a socket (the replies Redis sent together, a stream batch's scorings) is issued in one
// turn: collected here and handed over once that turn's I/O callbacks and their promise chains
// have run (setImmediate), as one call instead of one each.

export class TurnBatch<T> {
  private items: T[] = [];
  private settlers: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private readonly send: (items: T[]) => Promise<unknown>;
  private readonly max: number;
  private readonly inFlight = new Set<Promise<unknown>>();

  /** `send` takes at most `max` items a call; a turn that issues more makes several calls. */
  constructor(send: (items: T[]) => Promise<unknown>, max: number) {
    this.send = send;
    this.max = max;
  }

  /** Settles when the call that carried the item is answered (rejects with its error). */
  add(item: T): Promise<void> {
    if (this.items.length === 0) setImmediate(() => this.flush());
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
