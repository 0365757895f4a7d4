// When a failed delivery is tried again: exponential backoff (base × 2^(attempt-1), capped, with up
// to 20 % jitter so that a fleet of subscriptions does not retry in step), for as long as the
// retry window lasts (24 hours by default, from when the delivery was queued); the last attempt
// falls at the window's end, so a receiver that is down is tried for at least the whole window.
// Pure: no I/O.
import type { AttemptOutcome } from './model.ts';

export interface RetryPolicy {
  /** The first retry's delay (ms). */
  baseMs: number;
  /** No delay beyond this (ms). */
  maxDelayMs: number;
  /** Retries stop once the delivery was queued this long ago (ms); then it is failed. */
  retryForMs: number;
  /** 0..1: how much of a delay may be taken off at random. */
  jitter?: number;
}

/** The backoff delay before retry number `attempt` (1 = after the first failed attempt), without jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const exp = policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(exp, policy.maxDelayMs);
}

/**
 * What follows a failed attempt: retry in some ms, or give up. `attempts` counts the failed one;
 * `sinceQueuedMs` is the time since the delivery was queued.
 */
export function afterFailure(
  policy: RetryPolicy,
  attempts: number,
  sinceQueuedMs: number,
  random: () => number = Math.random,
): AttemptOutcome {
  const left = policy.retryForMs - sinceQueuedMs;
  if (left <= 0) return { status: 'failed' };
  const delay = backoffDelay(policy, attempts) * (1 - (policy.jitter ?? 0.2) * random());
  return { status: 'pending', retryInMs: Math.max(0, Math.min(Math.round(delay), left)) };
}

/** The schedule a policy gives a receiver that never answers: the delays and their total (docs, tests). */
export function schedule(policy: RetryPolicy): { delaysMs: number[]; totalMs: number } {
  const delaysMs: number[] = [];
  let elapsed = 0;
  for (let attempt = 1; elapsed < policy.retryForMs && attempt < 100_000; attempt++) {
    const outcome = afterFailure(policy, attempt, elapsed, () => 0);
    if (outcome.status !== 'pending') break;
    delaysMs.push(outcome.retryInMs);
    elapsed += outcome.retryInMs;
  }
  return { delaysMs, totalMs: elapsed };
}
