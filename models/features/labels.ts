// The fraud labels the features see: chargebacks, as serving gets them. Serving counts a fraud in
// the merchant's delayed windows only once its chargeback has been reported (services/core/
// velocity.ts), and a chargeback comes late, or never: the issuer reports a share of the frauds,
// weeks after the transaction, and none for a transaction that was never completed (declined by the
// issuer, or by the engine). Training and evaluation compute the terminal-risk features from the
// same labels, drawn here: one arrival time per fraudulent row (Infinity: never), the same for a
// transaction in every run, path and range (a hash of its id and the seed).
import type { Dataset } from '../simulator/csv.ts';
import { DAY_SECONDS } from '../../services/model/definitions.ts';

export interface LabelAssumption {
  /** A chargeback arrives between these many days after the transaction (uniform). */
  delayMinDays: number;
  delayMaxDays: number;
  /** Share of the (completed) frauds that are ever charged back. */
  share: number;
  /** Which frauds are charged back and when: a seed of the per-transaction draw. */
  seed: number;
}

/**
 * What the published protocol assumes (models/README.md "Measured"): every fraud is charged back
 * exactly 7 days after the transaction — the handbook's labels, the terminal windows' 7-day delay.
 * Kept as the default so that published figures reproduce; production labels are later and fewer.
 */
export const PUBLISHED_LABELS: LabelAssumption = { delayMinDays: 7, delayMaxDays: 7, share: 1, seed: 1 };

/** The delayed windows' reach: a label that arrives later than this after its transaction is never counted. */
export const LABEL_WINDOW_DAYS = 37;

/** Knuth-style 32-bit mix of a transaction id, a seed and a stream: a draw in [0, 1). */
export function labelDraw(id: number, seed: number, stream: number): number {
  let h = (Math.imul(id >>> 0, 0x9e3779b1) ^ Math.imul((id / 2 ** 32) >>> 0, 0x85ebca6b)) >>> 0;
  h = (h ^ Math.imul(seed >>> 0, 0xc2b2ae35) ^ Math.imul(stream + 1, 0x27d4eb2f)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * When a fraudulent transaction's chargeback reaches the merchant, epoch seconds; Infinity when it
 * never does (not charged back, or `declined`). The delay is continuous: uniform over
 * [delayMinDays, delayMaxDays] days (exactly delayMinDays when both are equal).
 */
export function chargebackAt(id: number, epochSeconds: number, a: LabelAssumption, declined = false): number {
  if (declined) return Infinity;
  if (a.share < 1 && labelDraw(id, a.seed, 0) >= a.share) return Infinity;
  const days =
    a.delayMaxDays === a.delayMinDays
      ? a.delayMinDays
      : a.delayMinDays + (a.delayMaxDays - a.delayMinDays) * labelDraw(id, a.seed, 1);
  return epochSeconds + Math.round(days * DAY_SECONDS);
}

/** Per dataset row: when its fraud label arrives (Infinity for genuine rows, and frauds never charged back). */
export function labelArrivals(ds: Dataset, a: LabelAssumption): Float64Array {
  const out = new Float64Array(ds.n).fill(Infinity);
  // The issuer's own decline (breach datasets): the transaction never completed, nothing to charge back.
  const auth = ds.extra.get('AUTH_RESULT');
  for (let i = 0; i < ds.n; i++)
    if (ds.fraud[i]) out[i] = chargebackAt(ds.transactionId[i]!, ds.epochSeconds[i]!, a, auth?.[i] === 'declined');
  return out;
}

export function isPublished(a: LabelAssumption): boolean {
  return (
    a.delayMinDays === PUBLISHED_LABELS.delayMinDays &&
    a.delayMaxDays === PUBLISHED_LABELS.delayMaxDays &&
    a.share === PUBLISHED_LABELS.share
  );
}

/** One line stating the labels a figure was measured under. */
export function describeLabels(a: LabelAssumption): string {
  const days =
    a.delayMinDays === a.delayMaxDays ? `${a.delayMinDays} days` : `${a.delayMinDays}–${a.delayMaxDays} days (uniform)`;
  const share = a.share === 1 ? 'every completed fraud' : `${(100 * a.share).toFixed(0)} % of completed frauds`;
  return (
    `labels: ${share} charged back ${days} after the transaction, none for declined ones` +
    (a.share < 1 || a.delayMinDays !== a.delayMaxDays ? `, draw seed ${a.seed}` : '') +
    (isPublished(a) ? " (the published protocol's assumption; production labels arrive later and fewer)" : '') +
    `; the terminal windows count a fraud once its chargeback has arrived (within ${LABEL_WINDOW_DAYS} days)`
  );
}

/** `MIN-MAX` or `N` days, 0 ≤ MIN ≤ MAX ≤ 3650; an error message otherwise. */
export function parseDelayDays(v: string): { min: number; max: number } | string {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(v.trim());
  if (!m) return `--chargeback-delay-days: MIN-MAX or N days (e.g. 7-60), not ${v}`;
  const min = Number(m[1]),
    max = m[2] === undefined ? min : Number(m[2]);
  if (min > max) return `--chargeback-delay-days: MIN (${min}) must not be more than MAX (${max})`;
  if (max > 3_650) return `--chargeback-delay-days: at most 3650 days, not ${max}`;
  return { min, max };
}

/** The flags that set a label assumption (train, evaluate, the breach protocol). */
export const LABEL_FLAGS = ['chargeback-delay-days', 'chargeback-share', 'chargeback-seed'] as const;

export const LABEL_USAGE = `  --chargeback-delay-days MIN-MAX|N (${PUBLISHED_LABELS.delayMinDays})  --chargeback-share S (${PUBLISHED_LABELS.share})  --chargeback-seed N (${PUBLISHED_LABELS.seed}):
      the fraud labels the terminal-risk features (and the engine replay) see: a share S of the completed frauds
      charged back MIN to MAX days later (uniform, drawn per transaction with the seed), none for declined ones;
      the defaults are the published protocol's (all, 7 days), not production's (models/README.md "Labels")`;

/** The label assumption the flags given (`value(flag)`) set; a usage message when one is wrong. */
export function labelsFromFlags(value: (flag: string) => string | undefined): LabelAssumption | string {
  const labels = { ...PUBLISHED_LABELS };
  const delay = value('chargeback-delay-days');
  if (delay !== undefined) {
    const d = parseDelayDays(delay);
    if (typeof d === 'string') return d;
    labels.delayMinDays = d.min;
    labels.delayMaxDays = d.max;
  }
  const share = value('chargeback-share');
  if (share !== undefined) {
    const n = Number(share);
    if (share.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      return `--chargeback-share: a share from 0 to 1, not ${share}`;
    labels.share = n;
  }
  const seed = value('chargeback-seed');
  if (seed !== undefined) {
    if (!/^\d+$/.test(seed) || Number(seed) > 2 ** 32 - 1)
      return `--chargeback-seed: a whole number from 0 to ${2 ** 32 - 1}, not ${seed}`;
    labels.seed = Number(seed);
  }
  return labels;
}

/**
 * What the forest learns. `truth`: the simulator's fraud flag (the published protocol's target).
 * `chargebacks`: the frauds a deployment knows of when it trains, at the cut-off — those whose
 * chargeback (under the label assumption) has arrived by then; a fraud charged back later, never,
 * or declined counts as genuine, as it would in the deployment's own data.
 */
export type TrainingTarget = 'truth' | 'chargebacks';
export const TRAINING_TARGETS: readonly TrainingTarget[] = ['truth', 'chargebacks'];

export const TARGET_USAGE = `  --target truth|chargebacks (truth): what the forest learns: the simulator's ground truth, or the frauds
      charged back by the training cut-off (the test period's start) under the labels above, as a deployment
      training then would know them; the test truth stays the ground truth`;

/** The `--target` flag's value (truth when not given), or its problem. */
export function targetFromFlag(v: string | undefined): { target: TrainingTarget } | { problem: string } {
  if (v === undefined) return { target: 'truth' };
  return (TRAINING_TARGETS as readonly string[]).includes(v)
    ? { target: v as TrainingTarget }
    : { problem: `--target: truth or chargebacks, not ${v}` };
}

/** Per row of `[from, to)`: 1 when its fraud label has arrived by `cutoff` (epoch seconds). */
export function knownFrauds(arrivals: Float64Array, from: number, to: number, cutoff: number): Uint8Array {
  const out = new Uint8Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = arrivals[i]! <= cutoff ? 1 : 0;
  return out;
}

/** What a forest was trained on, as recorded beside its figures. */
export interface TargetRecord {
  target: TrainingTarget;
  /** The cut-off (ISO time) for `chargebacks`. */
  cutoff?: string;
  /** Frauds in the training rows as learnt, and in the ground truth. */
  frauds: number;
  truthFrauds: number;
  description: string;
}

/** One line stating the training target. */
export function describeTarget(t: Omit<TargetRecord, 'description'>): string {
  return t.target === 'truth'
    ? `target: the ground truth (${t.truthFrauds} frauds in the training rows; the published protocol's)`
    : `target: the frauds charged back by ${t.cutoff}, the training cut-off (${t.frauds} of the ${t.truthFrauds} frauds in the training rows; the rest learnt as genuine)`;
}
