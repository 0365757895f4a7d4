// The behavioural model as the engine sees it: the feature map in, a fraud probability and the
// features that pushed it up out. Pure; the implementation (a compiled random forest loaded from a
// versioned artifact) lives in services/model/ (loaded by services/adapters/files/model-file.ts), and the runtime swaps it without a restart.
import type { Reason } from './schemas.ts';
import type { FeatureMap } from './feature-map.ts';

export interface ModelFactor {
  /** The model feature's name, as in its feature set. */
  feature: string;
  value: number;
  /**
   * How much this feature moved the fraud probability along the paths taken (0..1 scale), in the
   * probability's own points: with the positive and negative ones, they add up to the probability
   * less the model's calibrated bias.
   */
  contribution: number;
}

export interface ModelVerdict {
  /** Fraud probability, 0..1. */
  probability: number;
  /**
   * The features that pushed the probability up the most, largest first. Computed on demand:
   * path contributions cost as much as the score, and only a firing model rule needs them.
   */
  factors(): ModelFactor[];
}

export interface ScoringModel {
  readonly version: string;
  readonly featureSet: string;
  evaluate(features: FeatureMap, occurredAt: number): ModelVerdict;
}

/** The model's output as a feature rules can use: the probability in percent, one decimal. */
export const MODEL_FEATURES = ['model_score'] as const;

export function modelFeatures(verdict: ModelVerdict): Record<(typeof MODEL_FEATURES)[number], number> {
  return { model_score: Math.round(verdict.probability * 1000) / 10 };
}

/** Reason codes of the model's factors: MODEL_FACTOR_ + the feature name in upper snake case. */
export function modelFactorCode(feature: string): string {
  return `MODEL_FACTOR_${feature
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')}`.slice(0, 64);
}

const round = (v: number) => (Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100));

/** Why the model scored high, for `reasons`: only factors that pushed the probability up. */
export function modelReasons(verdict: ModelVerdict, max = 3): Reason[] {
  return verdict
    .factors()
    .filter((f) => f.contribution > 0)
    .slice(0, max)
    .map((f) => ({
      code: modelFactorCode(f.feature),
      message: `Model: ${f.feature} = ${round(f.value)} raised the fraud probability by ${round(f.contribution * 100)} points`,
    }));
}
