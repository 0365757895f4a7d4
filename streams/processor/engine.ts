// The engine as the stream processor uses it: batches of scorings (services/core/engine.ts
// scoreBatch), each answered with a result or the error it failed with.
import type { Evidence, ScoreResult } from '../../services/core/engine.ts';
import type { ScoreRequest } from '../../services/core/schemas.ts';

/** The engine as the stream uses it: batches (services/core/engine.ts scoreBatch). */
export interface ScoringEngine {
  scoreBatch(
    items: readonly { merchantId: string; request: ScoreRequest }[],
  ): Promise<(ScoreResult | { kind: 'error'; error: unknown })[]>;
}

/** A ScoringEngine from a one-at-a-time scorer (test doubles, the benchmark's no-op engine). */
export function oneAtATime(score: (merchantId: string, request: ScoreRequest) => Promise<ScoreResult>): ScoringEngine {
  return {
    async scoreBatch(items) {
      const results: (ScoreResult | { kind: 'error'; error: unknown })[] = [];
      for (const { merchantId, request } of items)
        results.push(await score(merchantId, request).catch((error: unknown) => ({ kind: 'error' as const, error })));
      return results;
    },
  };
}

/** The stand-in engines' answer (test doubles, the benchmark's no-op engine): an approval that evaluated nothing. */
export function standInApproval(transactionId: string, engine: string, evidence?: Evidence): ScoreResult {
  return {
    kind: 'scored',
    replayed: false,
    response: {
      transactionId,
      score: 0,
      decision: 'approve',
      reasons: [],
      degraded: false,
      checks: { velocity: 'evaluated', rules: 'evaluated', watchlist: 'evaluated', model: 'not_configured' },
      versions: { engine, ruleset: engine },
    },
    ...(evidence ? { evidence } : {}),
  };
}
