// A backtest: recorded traffic replayed in event time through the engine twice, once with the
// configuration in force and once with a candidate (ruleset, model), each on fresh in-memory
// stores in a worker thread of its own (replay.ts; production stores are never touched). What each
// decided is tallied against what became of each transaction: a chargeback or an analyst's fraud
// label is fraud, anything else is presumed legitimate.
import { Worker } from 'node:worker_threads';
import { ALL_FEATURES, referenceCents } from '../../services/core/features.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { frictionBudget, type FrictionBudget } from '../../services/core/rules.ts';
import { DECISIONS, type Decision } from '../../services/core/schemas.ts';
import { scrubCardNumbers } from '../../services/core/scrub.ts';
import { joinKey } from '../../services/recording/record.ts';
import type { Traffic } from './traffic.ts';
import {
  inputOf,
  NOT_SCORED,
  replayConfiguration,
  type Configuration,
  type ReplayedRun,
  type ReplayWindow,
} from './replay.ts';

export type { Configuration } from './replay.ts';

export interface BacktestOptions {
  baseline: Configuration;
  candidate: Configuration;
  /** Reported window [from, to) in epoch ms; traffic before `from` (within the warm-up) only builds counters. */
  from?: number;
  to?: number;
  /** Days before `from` replayed to build the counters (velocity windows reach 30 days, delayed ones 37). */
  warmupDays?: number;
  /** Replay both configurations in this thread, one after the other (default: a worker thread each, at once). */
  inProcess?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** How many transactions `changes` and `notReproduced` list at most (default LISTED_CHANGES). */
  listedAtMost?: number;
}

/** The transactions `changes` and `notReproduced` list at most, each: the first by merchant then time. */
export const LISTED_CHANGES = 10_000;

export interface DecisionCell {
  count: number;
  fraud: number;
  legitimate: number;
  /** In the reference currency's major unit. */
  fraudAmount: number;
  legitimateAmount: number;
}

export interface ConfigurationResult {
  label: string;
  versions: { ruleset: string; model: string | null };
  sources: Omit<Configuration, 'label'>;
  decisions: Record<Decision, DecisionCell>;
  /** Frauds not approved: stepped up, reviewed or declined. */
  fraudStopped: { count: number; share: number; amount: number; amountShare: number };
  /** Per 1,000 legitimate orders. */
  legitimatePer1000: { challenged: number; reviewed: number; declined: number; stopped: number };
}

export interface MerchantRow {
  merchantId: string;
  transactions: number;
  fraud: number;
  fraudAmount: number;
  fraudAmountStopped: [number, number];
  legitimateStoppedPer1000: [number, number];
  changed: number;
  /** Its orders neither configuration could score (`transactions` leaves them out). */
  notScored: number;
  /** Shares of all its orders challenged and held for review, [in force, candidate], beside the candidate's budget (ruleset `friction`). */
  challengeShare: [number, number];
  reviewShare: [number, number];
  budget: FrictionBudget;
  /** The budget lines the candidate spends beyond their target. */
  overBudget: ('challenge' | 'review')[];
}

export interface ReasonRow {
  code: string;
  /** Transactions it was given for, [in force, candidate], and how many of those were fraud. */
  count: [number, number];
  fraud: [number, number];
}

/**
 * One transaction decided otherwise: by the candidate than by the configuration in force
 * (`changes`), or by the in-force replay than when it was recorded (`notReproduced`). Its ids as
 * the traffic has them (card-free: validated so on the way in, scrubbed all the same).
 */
export interface TransactionChange {
  merchantId: string;
  transactionId: string;
  /** Event time, ISO 8601. */
  at: string;
  /** [before, after]: in force → candidate, or recorded → in-force replay. */
  decision: [Decision, Decision];
  score: [number, number];
  /** The reason codes given after and not before (added), before and not after (removed). */
  reasons: { added: string[]; removed: string[] };
}

export interface BacktestReport {
  generatedAt: string;
  source: { kind: Traffic['kind']; description: string; refused: number; problems: string[]; duplicates: number };
  window: { from: string | null; to: string | null; warmupDays: number };
  currency: string;
  transactions: {
    replayed: number;
    /** Replayed before `from` only to build the counters (the warm-up): in no figure. */
    warmup: number;
    reported: number;
    /**
     * Refused by the engine in either configuration (a currency the rate table cannot price): in
     * no figure but these, and each merchant's `notScored`.
     */
    notScored: number;
    /** Of those, how many were fraud (known as fraud is: a chargeback, an analyst's label). */
    notScoredFraud: number;
    /** Why, busiest reason first: "no exchange rate for JPY". */
    notScoredBy: { reason: string; count: number }[];
    fraud: number;
    legitimate: number;
    labelledLegitimate: number;
    fraudAmount: number;
  };
  rate: { seconds: number; perSecond: number };
  /** The in-force replay against what was decided when recorded (recordings only). */
  recorded: { compared: number; agreed: number; share: number; degradedThen: number } | null;
  results: [ConfigurationResult, ConfigurationResult];
  /** transitions[from][to]: how many transactions the candidate moved, all / fraud. */
  transitions: Record<Decision, Record<Decision, { count: number; fraud: number }>>;
  merchants: MerchantRow[];
  reasons: ReasonRow[];
  /** The transactions whose decision the candidate changes, by merchant then time: the first LISTED_CHANGES. */
  changes: TransactionChange[];
  /** How many transactions the candidate changes, listed or not. */
  changesTotal: number;
  /** How many of them `changes` leaves out (beyond its first LISTED_CHANGES). */
  changesLeftOut: number;
  /** The recorded decisions (not degraded then) the in-force replay did not reproduce, by merchant then time: the first LISTED_CHANGES; empty for plain requests. */
  notReproduced: TransactionChange[];
  notReproducedTotal: number;
  notReproducedLeftOut: number;
}

const emptyCell = (): DecisionCell => ({ count: 0, fraud: 0, legitimate: 0, fraudAmount: 0, legitimateAmount: 0 });
const byDecision = <T>(make: () => T) => Object.fromEntries(DECISIONS.map((d) => [d, make()])) as Record<Decision, T>;
const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface MerchantTally {
  transactions: number;
  fraud: number;
  fraudAmount: number;
  legitimate: number;
  fraudAmountStopped: [number, number];
  legitimateStopped: [number, number];
  challenged: [number, number];
  reviewed: [number, number];
  changed: number;
  notScored: number;
}

function frictionOf(t: MerchantTally, budget: FrictionBudget) {
  const share = (n: number) => round(ratio(n, t.transactions), 4);
  const challengeShare: [number, number] = [share(t.challenged[0]), share(t.challenged[1])];
  const reviewShare: [number, number] = [share(t.reviewed[0]), share(t.reviewed[1])];
  const overBudget: ('challenge' | 'review')[] = [];
  if (challengeShare[1] > budget.challenge) overBudget.push('challenge');
  if (reviewShare[1] > budget.review) overBudget.push('review');
  return { challengeShare, reviewShare, budget, overBudget };
}

/** A transaction decided otherwise, before → after. */
function changeOf(
  merchantId: string,
  transactionId: string,
  at: number,
  decision: [Decision, Decision],
  score: [number, number],
  reasons: [readonly string[], readonly string[]],
): TransactionChange {
  const [before, after] = reasons.map((r) => new Set(r));
  return {
    merchantId: scrubCardNumbers(merchantId),
    transactionId: scrubCardNumbers(transactionId),
    at: new Date(at).toISOString(),
    decision,
    score: [round(score[0], 4), round(score[1], 4)],
    reasons: {
      added: [...after!].filter((c) => !before!.has(c)),
      removed: [...before!].filter((c) => !after!.has(c)),
    },
  };
}

/**
 * The first `limit` transactions by merchant then time of all those added (in time order), and how
 * many were added: at most twice the limit held at once, so a candidate that changes a million
 * decisions neither writes them all into report.json nor holds them in memory.
 */
class FirstByMerchant {
  total = 0;
  private held: { change: TransactionChange; seq: number }[] = [];
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  add(change: TransactionChange): void {
    this.held.push({ change, seq: this.total++ });
    if (this.held.length >= 2 * this.limit) this.trim();
  }

  /** The listed ones, by merchant then time. */
  list(): TransactionChange[] {
    this.trim();
    return this.held.map((h) => h.change);
  }

  private trim(): void {
    this.held.sort((a, b) =>
      a.change.merchantId < b.change.merchantId ? -1 : a.change.merchantId > b.change.merchantId ? 1 : a.seq - b.seq,
    );
    if (this.held.length > this.limit) this.held.length = this.limit;
  }
}

const codesOf = (joined: string) => (joined === '' ? [] : joined.split(','));

/** First index at or after a time (the traffic is in time order). */
export function firstAt(at: Float64Array, t: number): number {
  let lo = 0,
    hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One configuration's replay in a worker thread of its own. */
function inWorker(
  traffic: Traffic,
  configuration: Configuration,
  window: ReplayWindow,
  onProgress: (done: number) => void,
  started: Worker[],
): Promise<ReplayedRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./replay-worker.ts', import.meta.url), {
      workerData: {
        traffic: {
          kind: traffic.kind,
          bytes: traffic.bytes,
          offsets: traffic.offsets,
          at: traffic.at,
          outcomes: traffic.outcomes,
        },
        configuration,
        window,
      },
    });
    started.push(worker);
    let settled = false;
    worker.on('message', (m: { progress?: number; run?: ReplayedRun; error?: string }) => {
      if (m.progress !== undefined) onProgress(m.progress);
      else if (m.run) {
        settled = true;
        resolve(m.run);
      } else if (m.error !== undefined) {
        settled = true;
        reject(new Error(scrubCardNumbers(m.error)));
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the replay of ${configuration.label} stopped (exit code ${code})`));
    });
  });
}

export async function runBacktest(traffic: Traffic, o: BacktestOptions): Promise<BacktestReport> {
  const started = performance.now();
  const warmupDays = o.warmupDays ?? 37;
  const from = o.from ?? -Infinity,
    to = o.to ?? Infinity;
  const window: ReplayWindow = {
    first: firstAt(traffic.at, from - warmupDays * 86_400_000),
    reportFrom: firstAt(traffic.at, from),
    end: firstAt(traffic.at, to),
  };
  const replayed = window.end - window.first;
  const done = [0, 0];
  const progress = (c: number) => (n: number) => {
    done[c] = n;
    o.onProgress?.(Math.min(done[0]!, done[1]!), replayed);
  };
  const configs = [o.baseline, o.candidate] as const;
  const runs = o.inProcess
    ? [
        await replayConfiguration(traffic, configs[0], window, progress(0)),
        await replayConfiguration(traffic, configs[1], window, progress(1)),
      ]
    : await (() => {
        const workers: Worker[] = [];
        // One failed replay stops the other: its answer would be of no use.
        return Promise.all(configs.map((c, i) => inWorker(traffic, c, window, progress(i), workers))).catch(
          async (error: unknown) => {
            await Promise.all(workers.map((w) => w.terminate()));
            throw error;
          },
        );
      })();
  const seconds = (performance.now() - started) / 1000;
  // The amounts' rates and the candidate's friction budgets: files only, the models stay in the workers.
  const rates = readRatesFile(o.baseline.rates);
  const candidateRuleset = readRulesetFile(o.candidate.ruleset, new Set(ALL_FEATURES));

  const results = configs.map((c, i) => ({
    label: c.label,
    versions: runs[i]!.versions,
    sources: { ruleset: c.ruleset, model: c.model, rates: c.rates },
    decisions: byDecision(emptyCell),
  }));
  const transitions = byDecision(() => byDecision(() => ({ count: 0, fraud: 0 })));
  const merchants = new Map<string, MerchantTally>();
  const reasons = new Map<string, ReasonRow>();
  const totals = {
    replayed,
    warmup: window.reportFrom - window.first,
    reported: 0,
    notScored: 0,
    notScoredFraud: 0,
    fraud: 0,
    legitimate: 0,
    labelledLegitimate: 0,
    fraudAmount: 0,
  };
  const recorded = { compared: 0, agreed: 0, degradedThen: 0 };
  const notScoredBy = new Map<string, number>();
  const listedAtMost = o.listedAtMost ?? LISTED_CHANGES;
  const changes = new FirstByMerchant(listedAtMost);
  const notReproduced = new FirstByMerchant(listedAtMost);
  const tallyOf = (merchantId: string): MerchantTally => {
    let m = merchants.get(merchantId);
    if (!m)
      merchants.set(
        merchantId,
        (m = {
          transactions: 0,
          fraud: 0,
          fraudAmount: 0,
          legitimate: 0,
          fraudAmountStopped: [0, 0],
          legitimateStopped: [0, 0],
          challenged: [0, 0],
          reviewed: [0, 0],
          changed: 0,
          notScored: 0,
        }),
      );
    return m;
  };

  for (let i = window.reportFrom; i < window.end; i++) {
    const k = i - window.reportFrom;
    const codes = [runs[0]!.decisions[k]!, runs[1]!.decisions[k]!];
    const input = inputOf(traffic, i);
    if (codes[0] === NOT_SCORED || codes[1] === NOT_SCORED) {
      // Left out of every figure, and said so: a candidate judged on the orders it could score only.
      totals.notScored++;
      tallyOf(input.merchantId).notScored++;
      if (
        traffic.truth.get(joinKey({ merchantId: input.merchantId, transactionId: input.request.transactionId })) ===
        'fraud'
      )
        totals.notScoredFraud++;
      const why = runs[codes[0] === NOT_SCORED ? 0 : 1]!.reasons[k] || 'refused by the engine';
      notScoredBy.set(why, (notScoredBy.get(why) ?? 0) + 1);
      continue;
    }
    const decided = codes.map((c) => DECISIONS[c]!);
    const at = traffic.at[i]!;
    totals.reported++;
    const key = joinKey({ merchantId: input.merchantId, transactionId: input.request.transactionId });
    const truth = traffic.truth.get(key);
    const fraud = truth === 'fraud';
    const amount = referenceCents(rates, input.request.amount, input.request.currency, at) / 100;
    if (fraud) {
      totals.fraud++;
      totals.fraudAmount += amount;
    } else {
      totals.legitimate++;
      if (truth === 'legitimate') totals.labelledLegitimate++;
    }
    const given = [codesOf(runs[0]!.reasons[k]!), codesOf(runs[1]!.reasons[k]!)] as const;
    const scores: [number, number] = [runs[0]!.scores[k]!, runs[1]!.scores[k]!];
    if (input.recorded) {
      if (input.recorded.degraded) recorded.degradedThen++;
      else {
        recorded.compared++;
        if (input.recorded.decision === decided[0]) recorded.agreed++;
        else
          notReproduced.add(
            changeOf(
              input.merchantId,
              input.request.transactionId,
              at,
              [input.recorded.decision, decided[0]!],
              [input.recorded.score, scores[0]],
              [input.recorded.reasons, given[0]],
            ),
          );
      }
    }
    if (decided[0] !== decided[1])
      changes.add(
        changeOf(input.merchantId, input.request.transactionId, at, [decided[0]!, decided[1]!], scores, [
          given[0],
          given[1],
        ]),
      );
    const m = tallyOf(input.merchantId);
    m.transactions++;
    if (fraud) {
      m.fraud++;
      m.fraudAmount += amount;
    } else m.legitimate++;
    if (decided[0] !== decided[1]) m.changed++;
    transitions[decided[0]!][decided[1]!].count++;
    if (fraud) transitions[decided[0]!][decided[1]!].fraud++;
    decided.forEach((decision, c) => {
      const cell = results[c]!.decisions[decision];
      cell.count++;
      if (fraud) {
        cell.fraud++;
        cell.fraudAmount += amount;
      } else {
        cell.legitimate++;
        cell.legitimateAmount += amount;
      }
      if (decision === 'challenge') m.challenged[c]!++;
      if (decision === 'review') m.reviewed[c]!++;
      if (decision !== 'approve') {
        if (fraud) m.fraudAmountStopped[c]! += amount;
        else m.legitimateStopped[c]!++;
      }
      for (const code of new Set(given[c])) {
        let row = reasons.get(code);
        if (!row) reasons.set(code, (row = { code, count: [0, 0], fraud: [0, 0] }));
        row.count[c]!++;
        if (fraud) row.fraud[c]!++;
      }
    });
  }

  const summarise = (r: (typeof results)[number]): ConfigurationResult => {
    const d = r.decisions;
    const stoppedFraud = d.challenge.fraud + d.review.fraud + d.decline.fraud;
    const stoppedAmount = d.challenge.fraudAmount + d.review.fraudAmount + d.decline.fraudAmount;
    const per1000 = (x: number) => round(1000 * ratio(x, totals.legitimate));
    for (const cell of Object.values(d)) {
      cell.fraudAmount = round(cell.fraudAmount);
      cell.legitimateAmount = round(cell.legitimateAmount);
    }
    return {
      ...r,
      fraudStopped: {
        count: stoppedFraud,
        share: round(ratio(stoppedFraud, totals.fraud), 4),
        amount: round(stoppedAmount),
        amountShare: round(ratio(stoppedAmount, totals.fraudAmount), 4),
      },
      legitimatePer1000: {
        challenged: per1000(d.challenge.legitimate),
        reviewed: per1000(d.review.legitimate),
        declined: per1000(d.decline.legitimate),
        stopped: per1000(d.challenge.legitimate + d.review.legitimate + d.decline.legitimate),
      },
    };
  };

  const listedChanges = changes.list();
  const listedNotReproduced = notReproduced.list();
  return {
    generatedAt: new Date().toISOString(),
    source: {
      kind: traffic.kind,
      description: '',
      refused: traffic.refused,
      problems: traffic.problems,
      duplicates: traffic.duplicates,
    },
    window: {
      from: Number.isFinite(from) ? new Date(from).toISOString() : null,
      to: Number.isFinite(to) ? new Date(to).toISOString() : null,
      warmupDays,
    },
    currency: rates.reference,
    transactions: {
      ...totals,
      notScoredBy: [...notScoredBy]
        .map(([reason, count]) => ({ reason, count }))
        .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      fraudAmount: round(totals.fraudAmount),
    },
    rate: { seconds: round(seconds, 1), perSecond: Math.round(ratio(totals.replayed, seconds)) },
    recorded:
      traffic.kind === 'recording' ? { ...recorded, share: round(ratio(recorded.agreed, recorded.compared), 4) } : null,
    results: [summarise(results[0]!), summarise(results[1]!)],
    transitions,
    merchants: [...merchants.entries()]
      .map(([merchantId, t]) => ({
        merchantId,
        transactions: t.transactions,
        fraud: t.fraud,
        fraudAmount: round(t.fraudAmount),
        fraudAmountStopped: [round(t.fraudAmountStopped[0]), round(t.fraudAmountStopped[1])] as [number, number],
        legitimateStoppedPer1000: [
          round(1000 * ratio(t.legitimateStopped[0], t.legitimate)),
          round(1000 * ratio(t.legitimateStopped[1], t.legitimate)),
        ] as [number, number],
        changed: t.changed,
        notScored: t.notScored,
        ...frictionOf(t, frictionBudget(candidateRuleset, merchantId)),
      }))
      .sort(
        (a, b) =>
          b.transactions + b.notScored - (a.transactions + a.notScored) || a.merchantId.localeCompare(b.merchantId),
      ),
    reasons: [...reasons.values()].sort((a, b) => b.count[0] + b.count[1] - (a.count[0] + a.count[1])),
    changes: listedChanges,
    changesTotal: changes.total,
    changesLeftOut: changes.total - listedChanges.length,
    notReproduced: listedNotReproduced,
    notReproducedTotal: notReproduced.total,
    notReproducedLeftOut: notReproduced.total - listedNotReproduced.length,
  };
}
