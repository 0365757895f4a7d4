// A warning that holds (Redis full, a shared limit unchecked) is repeated every so often, not at
// every reading or request: the first time at once, then at most once per period.

/** True at most once every `ms`. */
export function atMostEvery(ms: number): () => boolean {
  let last = -Infinity;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}
