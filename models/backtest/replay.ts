// One configuration's replay of the traffic: the engine on fresh in-memory stores, on a clock that
// follows the traffic, outcomes reaching it when they reached production. It returns
// what it decided for each reported transaction; backtest.ts runs two of these (in worker threads,
// one per configuration) and compares them.
import { Engine, type ReducedScoring, type ScoreResult } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import type { ScoringModel } from '../../services/core/model.ts';
import { rulesetVersion, type Ruleset } from '../../services/core/rules.ts';
import type { RateTable } from '../../services/core/currency.ts';
import { DECISIONS, type Decision, type ScoreRequest } from '../../services/core/schemas.ts';
import { UnknownRateError } from '../../services/core/currency.ts';
import type { EventView } from '../../services/core/watchlist.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { joinKey, replayInput, type ScoredRecord } from '../../services/recording/record.ts';
import { REPLAY_KEYRING } from '../replay/engine-replay.ts';
import { lineAt, type RequestLine, type Traffic } from './traffic.ts';
import { ReplayArchive } from './replay-archive.ts';

/** A configuration by its files: loaded where it is replayed (a worker thread cannot receive a loaded one). */
export interface Configuration {
  /** How the report names it: "in force", "candidate". */
  label: string;
  ruleset: string;
  model: string | null;
  rates: string;
}

export interface LoadedConfiguration {
  ruleset: Ruleset;
  model: ScoringModel | undefined;
  rates: RateTable;
}

export function loadConfiguration(c: Configuration): LoadedConfiguration {
  const rates = readRatesFile(c.rates);
  return {
    ruleset: readRulesetFile(c.ruleset, new Set(ALL_FEATURES)),
    // refused, as by the engine, when trained on amounts in another currency than the table's reference
    model: c.model ? loadScoringModel(c.model, { amountReference: rates.reference }) : undefined,
    rates,
  };
}

/** The replayed slice: [first, end) of the traffic's scorings, of which [reportFrom, end) are reported. */
export interface ReplayWindow {
  first: number;
  reportFrom: number;
  end: number;
}

const NO_WATCHLIST_EVENTS: ReadonlyMap<number, EventView> = new Map();

/** The decision index of a transaction the engine refused to score (a currency without a rate). */
export const NOT_SCORED = 255;

export interface ReplayedRun {
  versions: { ruleset: string; model: string | null };
  /** Per reported transaction (index - reportFrom): the decision's index in DECISIONS. */
  decisions: Uint8Array;
  /** Per reported transaction: its reason codes, comma-joined ('' for none); for one NOT_SCORED, why not. */
  reasons: string[];
  /** Per reported transaction: its score (0 for one NOT_SCORED). */
  scores: Float64Array;
}

/** One input to the engine: a recorded scoring (reduced) or a plain request. */
export function inputOf(
  traffic: Pick<Traffic, 'kind' | 'bytes' | 'offsets'>,
  i: number,
): { merchantId: string; request: ScoreRequest; reduced?: ReducedScoring; recorded?: ScoredRecord } {
  const line = lineAt(traffic, i);
  if (traffic.kind === 'requests') return JSON.parse(line) as RequestLine;
  const record = JSON.parse(line) as ScoredRecord;
  const { request, reduced } = replayInput(record);
  return { merchantId: record.merchantId, request, reduced, recorded: record };
}

export type ReplayTraffic = Pick<Traffic, 'kind' | 'bytes' | 'offsets' | 'at' | 'outcomes'>;

/** A scoring of the replay, warm-up included: its index in the traffic, its input and what the engine made of it. */
export type ReplayedScoring = (
  i: number,
  input: ReturnType<typeof inputOf>,
  result: Extract<ScoreResult, { kind: 'scored' }>,
) => void;

export async function replayConfiguration(
  traffic: ReplayTraffic,
  configuration: Configuration,
  window: ReplayWindow,
  onProgress?: (done: number) => void,
  onScored?: ReplayedScoring,
): Promise<ReplayedRun> {
  const loaded = loadConfiguration(configuration);
  let clock = 0;
  const store = new MemoryVelocityStore({ now: () => clock });
  // An outcome reported after the replay's marker has gone (35 days) finds its transaction here, as
  // production's finds it in its archive.
  const archive = new ReplayArchive(new Set(traffic.outcomes.map(joinKey)));
  const engine = new Engine({
    store,
    // Plain requests are fingerprinted with it; any key does, the stores being fresh.
    keyring: REPLAY_KEYRING,
    ruleset: () => loaded.ruleset,
    rates: () => loaded.rates,
    // No deadline in a replay: every answer is a full one.
    deadlineMs: 600_000,
    now: () => clock,
    model: () => loaded.model,
    // Plain requests are looked up as a deployed engine looks them up, on a watchlist and lists that
    // start empty: "nothing found" (days_since_listed -1, not absent), as a recording's replay
    // restores it. A recording's scorings bring the answers they had.
    ...(traffic.kind === 'requests' ? { watchlistEvents: () => NO_WATCHLIST_EVENTS, lists: true } : {}),
    archive: () => archive,
    observer: { scored: (merchantId, _request, result) => archive.scored(merchantId, result) },
  });
  const reported = window.end - window.reportFrom;
  const decisions = new Uint8Array(reported);
  const reasons: string[] = new Array<string>(reported);
  const scores = new Float64Array(reported);
  const index = new Map(DECISIONS.map((d, i) => [d, i]));
  let nextOutcome = 0;
  const first = traffic.at[window.first] ?? Infinity;
  while (nextOutcome < traffic.outcomes.length && traffic.outcomes[nextOutcome]!.reportedAt < first) nextOutcome++;
  try {
    for (let i = window.first; i < window.end; i++) {
      const at = traffic.at[i]!;
      // The outcomes production had learnt before this transaction: each on the clock of its
      // arrival, counted at its own time (the store's counters take it at `at`, as production's did).
      // A chargeback dated before this transaction but reported after it is not known yet.
      while (nextOutcome < traffic.outcomes.length && traffic.outcomes[nextOutcome]!.reportedAt < at) {
        const o = traffic.outcomes[nextOutcome++]!;
        clock = o.reportedAt;
        await engine.recordOutcome(o.merchantId, o.transactionId, o.outcome, o.at);
      }
      clock = at;
      const input = inputOf(traffic, i);
      // A currency the rate table cannot price is refused, as the API refuses it (422): not scored.
      let refused = '';
      const result = await engine.score(input.merchantId, input.request, input.reduced).catch((error: unknown) => {
        if (!(error instanceof UnknownRateError)) throw error;
        refused = `no exchange rate for ${error.currency}`;
        return undefined;
      });
      if (result && result.kind !== 'scored')
        throw new Error(`transaction ${input.request.transactionId} of ${input.merchantId} conflicted in the replay`);
      if (result) onScored?.(i, input, result);
      if (!result) {
        if (i >= window.reportFrom) {
          decisions[i - window.reportFrom] = NOT_SCORED;
          reasons[i - window.reportFrom] = refused;
        }
      } else if (i >= window.reportFrom) {
        decisions[i - window.reportFrom] = index.get(result.response.decision as Decision)!;
        reasons[i - window.reportFrom] = result.response.reasons.map((r) => r.code).join(',');
        scores[i - window.reportFrom] = result.response.score;
      }
      if ((i - window.first) % 2000 === 0) onProgress?.(i - window.first);
    }
  } finally {
    await store.close();
  }
  onProgress?.(window.end - window.first);
  return {
    // As answers name it: two configurations of one declared version are told apart by their rules.
    versions: { ruleset: rulesetVersion(loaded.ruleset), model: loaded.model?.version ?? null },
    decisions,
    reasons,
    scores,
  };
}
