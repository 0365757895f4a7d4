// How much Card Precision@k the handbook features can reach on handbook-generated data.
//
// A compromised terminal's fraud (scenario 2) changes nothing a transaction's features show until
// the terminal's fraud labels reach its delayed risk windows: before that its transactions are
// distributed exactly like genuine ones, and no model on these features can rank them above
// genuine cards except by chance. Scenario 1 (amount) and 3 (inflated amounts on one card) frauds
// are visible at once. The reachable CP@k is the expected CP@k of an oracle that ranks, each day,
// the cards with a visible fraud first and the rest at random: what a model on these features can
// expect at best.
import type { Dataset } from '../simulator/csv.ts';
import { DAY_SECONDS, type FeatureSet } from '../../services/model/definitions.ts';
import type { Split } from './protocol.ts';

const HANDBOOK_SCENARIOS = new Set([1, 2, 3]);

/** The delayed terminal windows of a feature set: (t − delay − days, t − delay]; undefined if it has none. */
export function terminalFraudWindow(fs: FeatureSet): { delayDays: number; days: number } | undefined {
  let window: { delayDays: number; days: number } | undefined;
  for (const f of fs.features) {
    if (f.kind !== 'window' || f.entity !== 'terminal' || f.stat !== 'fraud_share') continue;
    if (window && window.delayDays !== f.delayDays) return undefined;
    window = { delayDays: f.delayDays, days: Math.max(window?.days ?? 0, f.days) };
  }
  return window;
}

/**
 * Per test row (split.test order): 1 when the row is a fraud the features can see (`arrivals`: when
 * each row's fraud label arrives, features/labels.ts; a scenario-2 fraud is seen once a fraud at its
 * terminal inside the delayed windows has been charged back). Undefined when
 * the data carries frauds of other scenarios (breach scenario, data from elsewhere), or the feature
 * set has no delayed terminal windows: then there is nothing to bound.
 */
export function visibleTestFrauds(
  ds: Dataset,
  split: Split,
  fs: FeatureSet,
  arrivals?: Float64Array,
): Uint8Array | undefined {
  const window = terminalFraudWindow(fs);
  if (!window) return undefined;
  const lastRow = split.test.length ? split.test[split.test.length - 1]! : -1;
  // Scenario-2 fraud rows per terminal, in time order (the dataset is in time order).
  const terminalFraudRows = new Map<number, number[]>();
  for (let i = 0; i <= lastRow; i++) {
    if (!ds.fraud[i]) continue;
    if (!HANDBOOK_SCENARIOS.has(ds.scenario[i]!)) return undefined;
    if (ds.scenario[i] !== 2) continue;
    const rows = terminalFraudRows.get(ds.terminal[i]!);
    if (rows) rows.push(i);
    else terminalFraudRows.set(ds.terminal[i]!, [i]);
  }
  const visible = new Uint8Array(split.test.length);
  split.test.forEach((row, k) => {
    if (!ds.fraud[row]) return;
    if (ds.scenario[row] !== 2) {
      visible[k] = 1;
      return;
    }
    const seen = ds.timeSeconds[row]! - window.delayDays * DAY_SECONDS;
    const from = seen - window.days * DAY_SECONDS;
    // ... and, with label arrivals, only once that fraud's chargeback has arrived
    const now = ds.epochSeconds[row]!;
    visible[k] = (terminalFraudRows.get(ds.terminal[row]!) ?? []).some((j) => {
      const t = ds.timeSeconds[j]!;
      return t > from && t <= seen && (!arrivals || arrivals[j]! <= now);
    })
      ? 1
      : 0;
  });
  return visible;
}

export interface ReachableResult {
  mean: number;
  perDay: { day: number; precision: number; visibleCards: number; invisibleCards: number; detected: number[] }[];
}

/**
 * Expected CP@k of the oracle that ranks, each day, the cards with a visible fraud first and the
 * others in random order (the chance share of invisible fraud cards in the remaining slots).
 * The visible cards it ranks in the top k are removed from later days, as in CP@k; the invisible
 * ones its random slots catch are an expectation, not cards, and stay (a slight upward bias on
 * later days). Ties among visible cards go to the lower card id, as in `cardPrecisionAtK`.
 */
export function reachableCardPrecision(ds: Dataset, split: Split, visible: Uint8Array, k = 100): ReachableResult {
  const byDay = new Map<number, Map<number, number>>();
  split.test.forEach((row, i) => {
    const day = split.testDay[i]!;
    let cards = byDay.get(day);
    if (!cards) byDay.set(day, (cards = new Map()));
    // 0 genuine, 1 fraud the features cannot see, 2 fraud they can see
    const kind = visible[i] ? 2 : ds.fraud[row] ? 1 : 0;
    const card = ds.customer[row]!;
    cards.set(card, Math.max(cards.get(card) ?? 0, kind));
  });
  const detected = new Set<number>();
  const perDay: ReachableResult['perDay'] = [];
  for (const day of [...byDay.keys()].sort((a, b) => a - b)) {
    const cards = [...byDay.get(day)!].filter(([card]) => !detected.has(card));
    const seen = cards
      .filter(([, kind]) => kind === 2)
      .map(([card]) => card)
      .sort((a, b) => a - b);
    const invisible = cards.filter(([, kind]) => kind === 1).length;
    const top = seen.slice(0, k);
    const slots = Math.min(k, cards.length) - top.length;
    const chance = slots > 0 ? (slots * invisible) / (cards.length - seen.length) : 0;
    perDay.push({
      day,
      precision: (top.length + chance) / k,
      visibleCards: seen.length,
      invisibleCards: invisible,
      detected: top,
    });
    for (const card of top) detected.add(card);
  }
  return { mean: perDay.length ? perDay.reduce((s, d) => s + d.precision, 0) / perDay.length : NaN, perDay };
}
