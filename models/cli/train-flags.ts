// The forest's training flags, shared by `model train|evaluate` and `model evaluate --protocol
// breach`: each flag, the parameter it sets and the values it takes (--trees 0 once trained for ever).
import type { TrainParams } from '../training/train.ts';

type NumericParam = { [K in keyof TrainParams]: TrainParams[K] extends number ? K : never }[keyof TrainParams];

export const TRAIN_FLAGS: Record<
  string,
  { key: NumericParam; integer: boolean; min: number; max: number; minOpen?: true }
> = {
  // ~17 KB a tree with the default parameters: 2,000 trees stay well within the 64 MiB the engine
  // loads (MAX_ARTIFACT_BYTES); 30,000 would pass V8's string limit, and only once trained.
  trees: { key: 'trees', integer: true, min: 1, max: 2_000 },
  seed: { key: 'seed', integer: true, min: 0, max: 2 ** 32 - 1 },
  'genuine-per-tree': { key: 'genuinePerTree', integer: true, min: 1, max: 1e9 },
  'fraud-share': { key: 'fraudShare', integer: false, min: 0, minOpen: true, max: 100 },
  'max-depth': { key: 'maxDepth', integer: true, min: 1, max: 1_000 },
  'min-node': { key: 'minNumSamples', integer: true, min: 1, max: 1e9 },
  'max-features': { key: 'maxFeatures', integer: false, min: 0, minOpen: true, max: 1e6 },
  bins: { key: 'bins', integer: true, min: 2, max: 256 },
  'gain-threshold': { key: 'gainThreshold', integer: false, min: 0, max: 1e9 },
  workers: { key: 'workers', integer: true, min: 0, max: 256 },
};

/** The values a numeric flag takes. */
export interface NumberRange {
  integer: boolean;
  min: number;
  max: number;
  /** `min` itself excluded. */
  minOpen?: true;
}

/** A numeric flag's value, or the problem with it in the flag's words (a string). */
export function parseNumberFlag(flag: string, v: string, { integer, min, max, minOpen }: NumberRange): number | string {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) return `--${flag}: not a number: ${v}`;
  if (integer && !Number.isInteger(n)) return `--${flag}: must be a whole number, not ${v}`;
  if (n > max || (minOpen ? n <= min : n < min))
    return `--${flag}: must be ${minOpen ? 'more than' : 'at least'} ${min} and at most ${max}, not ${v}`;
  return n;
}

/** Sets the flags given (`value(flag)`) on `params`; returns the first problem, in the flag's words. */
export function applyTrainFlags(params: TrainParams, value: (flag: string) => string | undefined): string | undefined {
  for (const [flag, range] of Object.entries(TRAIN_FLAGS)) {
    const v = value(flag);
    if (v === undefined) continue;
    const n = parseNumberFlag(flag, v, range);
    if (typeof n === 'string') return n;
    params[range.key] = n;
  }
  return undefined;
}

/** Whether `s` is a real calendar date written YYYY-MM-DD (2018-02-30 and 2018-04-99 are not). */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}
