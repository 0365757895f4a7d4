// Polling for a condition that a real process reaches in its own time (a recovery, a failover).

/** Probes every 100 ms until `accept` holds or `timeoutMs` passes; returns the last value either way (the caller asserts on it). */
export async function until<T>(probe: () => Promise<T>, accept: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (accept(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
