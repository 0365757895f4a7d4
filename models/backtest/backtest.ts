// A backtest: recorded traffic replayed in event time through the engine twice, once with the
// configuration in force and once with a candidate (ruleset, model), each on fresh in-memory
// stores on a clock that follows the traffic (production stores are never touched). Outcomes
// reach both engines at their times, as they reached production. What each decided is tallied
// against what became of each transaction: a chargeback or an analyst's fraud label is fraud,
// anything else is presumed legitimate.
import { Engine, type ReducedScoring } from '../../services/core/engine.ts';
import type { CardKeyring } from '../../services/core/card.ts';
import type { RateTable } from '../../services/core/currency.ts';
import { referenceCents } from '../../services/core/features.ts';
import type { ScoringModel } from '../../services/core/model.ts';
import type { Ruleset } from '../../services/core/rules.ts';
import { DECISIONS, type Decision, type ScoreRequest } from '../../services/core/schemas.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { recordKey, replayInput, type ScoredRecord } from '../../services/recording/record.ts';
import type { RequestLine, Traffic } from './traffic.ts';

export interface Configuration {
  /** How the report names it: "in force", "candidate". */
  label: string;
  ruleset: Ruleset;
  model: ScoringModel | undefined;
  rates: RateTable;
  /** Where it came from (file paths), for the report. */
  sources: { ruleset: string; model: string | null; rates: string };
}

export interface BacktestOptions {
  baseline: Configuration;
  candidate: Configuration;
  /** Reported window [from, to) in epoch ms; traffic before `from` (within the warm-up) only builds counters. */
  from?: number;
  to?: number;
  /** Days before `from` replayed to build the counters (velocity windows reach 30 days, delayed ones 37). */
  warmupDays?: number;
  /** Fingerprints plain requests (the replay command); any key does: the stores are fresh. */
  keyring: CardKeyring;
  onProgress?: (done: number, total: number) => void;
}

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
  sources: Configuration['sources'];
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
}

export interface ReasonRow {
  code: string;
  /** Transactions it was given for, [in force, candidate], and how many of those were fraud. */
  count: [number, number];
  fraud: [number, number];
}

export interface BacktestReport {
  generatedAt: string;
  source: { kind: Traffic['kind']; description: string; refused: number; problems: string[]; duplicates: number };
  window: { from: string | null; to: string | null; warmupDays: number };
  currency: string;
  transactions: {
    replayed: number;
    reported: number;
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
  changed: number;
}

/** One input to the engines: a recorded scoring (reduced) or a plain request. */
function inputOf(
  traffic: Traffic,
  line: string,
): { merchantId: string; request: ScoreRequest; reduced?: ReducedScoring; recorded?: ScoredRecord } {
  if (traffic.kind === 'requests') return JSON.parse(line) as RequestLine;
  const record = JSON.parse(line) as ScoredRecord;
  const { request, reduced } = replayInput(record);
  return { merchantId: record.merchantId, request, reduced, recorded: record };
}

export async function runBacktest(traffic: Traffic, o: BacktestOptions): Promise<BacktestReport> {
  const started = performance.now();
  const warmupDays = o.warmupDays ?? 37;
  const from = o.from ?? -Infinity,
    to = o.to ?? Infinity;
  const replayFrom = from - warmupDays * 86_400_000;
  let clock = 0;
  const engines = [o.baseline, o.candidate].map((c) => {
    const store = new MemoryVelocityStore({ now: () => clock });
    const engine = new Engine({
      store,
      keyring: o.keyring,
      ruleset: () => c.ruleset,
      rates: () => c.rates,
      // No deadline in a replay: every answer is a full one.
      deadlineMs: 600_000,
      now: () => clock,
      model: () => c.model,
    });
    return { store, engine };
  });

  const results = [o.baseline, o.candidate].map((c) => ({
    label: c.label,
    versions: { ruleset: c.ruleset.version, model: c.model?.version ?? null },
    sources: c.sources,
    decisions: byDecision(emptyCell),
  }));
  const transitions = byDecision(() => byDecision(() => ({ count: 0, fraud: 0 })));
  const merchants = new Map<string, MerchantTally>();
  const reasons = new Map<string, ReasonRow>();
  const totals = { replayed: 0, reported: 0, fraud: 0, legitimate: 0, labelledLegitimate: 0, fraudAmount: 0 };
  const recorded = { compared: 0, agreed: 0, degradedThen: 0 };

  const n = traffic.lines.length;
  let nextOutcome = 0;
  for (let i = 0; i < n; i++) {
    const at = traffic.at[i]!;
    if (at < replayFrom) continue;
    if (at >= to) break;
    while (nextOutcome < traffic.outcomes.length && traffic.outcomes[nextOutcome]!.at < at) {
      const outcome = traffic.outcomes[nextOutcome++]!;
      clock = outcome.at;
      for (const { engine } of engines)
        await engine.recordOutcome(outcome.merchantId, outcome.transactionId, outcome.outcome, outcome.at);
    }
    clock = at;
    const input = inputOf(traffic, traffic.lines[i]!);
    const decided: Decision[] = [];
    const reasonCodes: string[][] = [];
    for (const { engine } of engines) {
      const result = await engine.score(input.merchantId, input.request, input.reduced);
      if (result.kind !== 'scored')
        throw new Error(`transaction ${input.request.transactionId} of ${input.merchantId} conflicted in the replay`);
      decided.push(result.response.decision);
      reasonCodes.push(result.response.reasons.map((r) => r.code));
    }
    totals.replayed++;
    if (i % 2000 === 0) o.onProgress?.(i, n);
    if (at < from) continue;

    totals.reported++;
    const key = recordKey({ merchantId: input.merchantId, transactionId: input.request.transactionId });
    const truth = traffic.truth.get(key);
    const fraud = truth === 'fraud';
    const amount = referenceCents(o.baseline.rates, input.request.amount, input.request.currency, at) / 100;
    if (fraud) {
      totals.fraud++;
      totals.fraudAmount += amount;
    } else {
      totals.legitimate++;
      if (truth === 'legitimate') totals.labelledLegitimate++;
    }
    if (input.recorded) {
      if (input.recorded.degraded) recorded.degradedThen++;
      else {
        recorded.compared++;
        if (input.recorded.decision === decided[0]) recorded.agreed++;
      }
    }
    let m = merchants.get(input.merchantId);
    if (!m) {
      m = {
        transactions: 0,
        fraud: 0,
        fraudAmount: 0,
        legitimate: 0,
        fraudAmountStopped: [0, 0],
        legitimateStopped: [0, 0],
        changed: 0,
      };
      merchants.set(input.merchantId, m);
    }
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
      if (decision !== 'approve') {
        if (fraud) m.fraudAmountStopped[c]! += amount;
        else m.legitimateStopped[c]!++;
      }
      for (const code of new Set(reasonCodes[c])) {
        let row = reasons.get(code);
        if (!row) reasons.set(code, (row = { code, count: [0, 0], fraud: [0, 0] }));
        row.count[c]!++;
        if (fraud) row.fraud[c]!++;
      }
    });
  }
  o.onProgress?.(n, n);
  for (const { store } of engines) await store.close();
  const seconds = (performance.now() - started) / 1000;

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
    currency: o.baseline.rates.reference,
    transactions: { ...totals, fraudAmount: round(totals.fraudAmount) },
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
      }))
      .sort((a, b) => b.transactions - a.transactions || a.merchantId.localeCompare(b.merchantId)),
    reasons: [...reasons.values()].sort((a, b) => b.count[0] + b.count[1] - (a.count[0] + a.count[1])),
  };
}
