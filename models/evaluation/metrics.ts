// Evaluation metrics, as the handbook defines them (scikit-learn semantics where it uses them).
export type Labels = ArrayLike<number>;
export type Scores = ArrayLike<number>;

/** Indices sorted by score, highest first (ties kept in index order). */
function byScoreDesc(scores: Scores): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** AUC ROC by the rank-sum (Mann–Whitney) statistic: tied scores count one half. */
export function aucRoc(scores: Scores, labels: Labels): number {
  const n = scores.length;
  const idx = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0,
    rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && scores[idx[j]!] === scores[idx[i]!]) j++;
    const midRank = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++)
      if (labels[idx[k]!]) {
        pos++;
        rankSum += midRank;
      }
    i = j;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Points (fpr, tpr) of the ROC curve, one per distinct score threshold, from (0, 0) to (1, 1). */
export function rocCurve(scores: Scores, labels: Labels): { fpr: number[]; tpr: number[] } {
  const idx = byScoreDesc(scores);
  let P = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) P++;
  const N = labels.length - P;
  const fpr = [0],
    tpr = [0];
  let tp = 0,
    fp = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) {
      if (labels[idx[j]!]) tp++;
      else fp++;
      j++;
    }
    fpr.push(N ? fp / N : 0);
    tpr.push(P ? tp / P : 0);
    i = j;
  }
  return { fpr, tpr };
}

/** Precision–recall points, one per distinct threshold, highest threshold first. */
export function prCurve(scores: Scores, labels: Labels): { precision: number[]; recall: number[] } {
  const idx = byScoreDesc(scores);
  let P = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) P++;
  const precision: number[] = [],
    recall: number[] = [];
  let tp = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) {
      if (labels[idx[j]!]) tp++;
      j++;
    }
    precision.push(tp / j);
    recall.push(P ? tp / P : 0);
    i = j;
  }
  return { precision, recall };
}

/**
 * Average precision as scikit-learn computes it: AP = Σ (R_k − R_{k−1}) · P_k over distinct
 * thresholds (tied scores form one threshold; no interpolation).
 */
export function averagePrecision(scores: Scores, labels: Labels): number {
  const { precision, recall } = prCurve(scores, labels);
  if (recall.length === 0 || recall[recall.length - 1] === 0) return NaN;
  let ap = 0,
    prev = 0;
  for (let k = 0; k < precision.length; k++) {
    ap += (recall[k]! - prev) * precision[k]!;
    prev = recall[k]!;
  }
  return ap;
}

export interface ScoredTransaction {
  day: number;
  card: number;
  score: number;
  fraud: number;
}

export interface CardPrecisionResult {
  mean: number;
  perDay: { day: number; precision: number; compromisedCards: number; detected: number[] }[];
}

/**
 * Card Precision@k (handbook): each day, one row per card (its highest score, fraud if any of its
 * transactions is), cards ranked by score (ties: lower card id first), frauds among the top k
 * divided by k. Cards detected (fraudulent and in a day's top k) are removed from later days.
 */
export function cardPrecisionAtK(
  rows: readonly ScoredTransaction[],
  k = 100,
  removeDetected = true,
): CardPrecisionResult {
  const days = [...new Set(rows.map((r) => r.day))].sort((a, b) => a - b);
  const byDay = new Map<number, ScoredTransaction[]>();
  for (const r of rows) {
    let list = byDay.get(r.day);
    if (!list) byDay.set(r.day, (list = []));
    list.push(r);
  }
  const detected = new Set<number>();
  const perDay: CardPrecisionResult['perDay'] = [];
  for (const day of days) {
    const cards = new Map<number, { score: number; fraud: number }>();
    for (const r of byDay.get(day)!) {
      if (detected.has(r.card)) continue;
      const c = cards.get(r.card);
      if (!c) cards.set(r.card, { score: r.score, fraud: r.fraud ? 1 : 0 });
      else {
        c.score = Math.max(c.score, r.score);
        c.fraud = Math.max(c.fraud, r.fraud ? 1 : 0);
      }
    }
    const ranked = [...cards].sort((a, b) => b[1].score - a[1].score || a[0] - b[0]);
    const top = ranked
      .slice(0, k)
      .filter(([, c]) => c.fraud)
      .map(([id]) => id);
    perDay.push({
      day,
      precision: top.length / k,
      compromisedCards: ranked.filter(([, c]) => c.fraud).length,
      detected: top,
    });
    if (removeDetected) for (const id of top) detected.add(id);
  }
  return { mean: perDay.length ? perDay.reduce((s, d) => s + d.precision, 0) / perDay.length : NaN, perDay };
}

/** One score decile of a calibration table: its rows, their mean score and their observed fraud rate. */
export interface CalibrationBin {
  decile: number;
  rows: number;
  minScore: number;
  maxScore: number;
  meanScore: number;
  frauds: number;
  fraudRate: number;
}

/**
 * Calibration by score deciles: rows sorted by score, cut into `bins` groups of equal size (the
 * first ones one row larger when they do not divide), each with its mean score and observed fraud
 * rate. A calibrated model's mean score matches the fraud rate in every decile; with the handbook's
 * ~1 % fraud the lower deciles are all near 0 and the top one holds most of the frauds.
 */
export function calibrationTable(scores: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  const out: CalibrationBin[] = [];
  let start = 0;
  for (let b = 0; b < bins && start < n; b++) {
    const size = Math.floor(n / bins) + (b < n % bins ? 1 : 0);
    if (size === 0) continue;
    let sum = 0,
      frauds = 0;
    for (let k = start; k < start + size; k++) {
      sum += scores[order[k]!]!;
      frauds += labels[order[k]!]! ? 1 : 0;
    }
    out.push({
      decile: b + 1,
      rows: size,
      minScore: scores[order[start]!]!,
      maxScore: scores[order[start + size - 1]!]!,
      meanScore: sum / size,
      frauds,
      fraudRate: frauds / size,
    });
    start += size;
  }
  return out;
}
