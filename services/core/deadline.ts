// A promise bounded by a deadline, without throwing away an answer that came in time.
//
// Node runs the timers that are due before it reads the sockets that became readable (the event
// loop's timers phase comes before its poll phase). On a busy loop, a deadline's timer and the
// reply it guards are often due in the same turn, and the timer, run first, would turn a reply
// already waiting in the socket into a timeout: under load, scorings answered degraded with their
// counters recorded (bench:api at 1,000 requests/s: 26–75 % degraded, 2–3 % after; docs/capacity.md).
// So the timer only arms the rejection for the end of its turn (setImmediate runs after the poll
// phase): a reply read in that turn wins. The answer leaves in that same turn either way; what has
// not come by then is late.

/** `promise`, or `late()`'s error when it has not settled within `ms` (at once when `ms` <= 0). */
export function withDeadline<T>(promise: Promise<T>, ms: number, late: () => Error): Promise<T> {
  if (ms <= 0) {
    promise.catch(() => {});
    return Promise.reject(late());
  }
  let timer: NodeJS.Timeout | undefined;
  let endOfTurn: NodeJS.Immediate | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        endOfTurn = setImmediate(() => reject(late()));
      }, ms);
    }),
  ]).finally(() => {
    clearTimeout(timer);
    clearImmediate(endOfTurn);
  });
}
