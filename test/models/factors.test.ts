// The model's factors (MODEL_FACTOR_* reasons) in points of the probability the engine serves: a
// prior-corrected model (`--leaf-values sample`) scores calibrate(raw), and its raw contributions
// said more points than the probability had risen.
import { describe, expect, it } from 'vitest';
import { ForestScoringModel } from '../../services/adapters/files/model-file.ts';
import { modelReasons } from '../../services/core/model.ts';
import { parseArtifact } from '../../services/model/artifact.ts';
import { HANDBOOK_FEATURE_SET } from '../../services/model/definitions.ts';
import { CompiledForest, type PriorCorrection } from '../../services/model/forest.ts';
import { stumpModel, type Stump } from '../support/stump-model.ts';

// TX_AMOUNT ≥ 500 → 0.9 (else 0.2), night → 0.8 (else 0.2): root values 0.55 and 0.5, bias 0.525.
const STUMPS: Stump[] = [
  ['TX_AMOUNT', 500, 0.2, 0.9],
  ['TX_DURING_NIGHT', 0.5, 0.2, 0.8],
];
// Trees grown on a 50 % fraud sample of a 10 % fraud population: odds × 1/9.
const PRIOR: PriorCorrection = { populationFraudShare: 0.1, sampleFraudShare: 0.5 };
const calibrate = (p: number) => (p * (1 / 9)) / (1 - p + p * (1 / 9));
const NIGHT = Date.parse('2026-01-05T03:00:00Z'),
  DAY = Date.parse('2026-01-05T14:00:00Z');

function model(prior?: PriorCorrection, stumps = STUMPS, packed = true): ForestScoringModel {
  const { artifact, forest } = parseArtifact(stumpModel('factors-1', prior ? { prior } : {}, stumps));
  const compiled = packed ? forest : new CompiledForest(forest.flat, forest.prior, { packed: false });
  return new ForestScoringModel(artifact, compiled, HANDBOOK_FEATURE_SET);
}
const points = (message: string) => Number(/by (-?[\d.]+) points$/.exec(message)![1]);

describe("the model's factors", () => {
  it('are unchanged without a prior correction (the default `--leaf-values all`)', () => {
    // `all` records a prior whose sample share is the population's: no correction either.
    for (const prior of [undefined, { populationFraudShare: 0.1, sampleFraudShare: 0.1 }]) {
      const verdict = model(prior).evaluate({ amount_ref: 900 }, NIGHT);
      expect(verdict.probability).toBeCloseTo(0.85, 12);
      expect(modelReasons(verdict).map((r) => r.message)).toEqual([
        'Model: TX_AMOUNT = 900 raised the fraud probability by 17.5 points',
        'Model: TX_DURING_NIGHT = 1 raised the fraud probability by 15 points',
      ]);
    }
  });

  it("of a calibrated model add up to at most the probability's rise over the calibrated bias", () => {
    for (const packed of [true, false]) {
      const verdict = model(PRIOR, STUMPS, packed).evaluate({ amount_ref: 900 }, NIGHT);
      // raw 0.85 → 38.6 %; bias 0.525 → 10.9 %: a rise of 27.7 points, not the raw 32.5.
      expect(verdict.probability).toBeCloseTo(calibrate(0.85), 12);
      const rise = 100 * (verdict.probability - calibrate(0.525));
      const reasons = modelReasons(verdict);
      expect(reasons.map((r) => r.code)).toEqual(['MODEL_FACTOR_TX_AMOUNT', 'MODEL_FACTOR_TX_DURING_NIGHT']);
      const said = reasons.map((r) => points(r.message));
      // Both pushes are up: they are the whole rise (to the messages' rounding), in the raw 35:30 ratio.
      expect(said.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(rise + 0.01);
      expect(said.reduce((a, b) => a + b, 0)).toBeCloseTo(rise, 1);
      expect(said[0]! / said[1]!).toBeCloseTo(35 / 30, 2);
      const factors = verdict.factors();
      expect(factors[0]!.contribution + factors[1]!.contribution).toBeCloseTo(rise / 100, 12);
    }
  });

  it('of a calibrated model are finite when the pushes cancel (raw score = bias)', () => {
    // Both stumps 0.2/0.9: bias 0.55; a big amount by day is 0.9 and 0.2, raw 0.55 again.
    const stumps: Stump[] = [
      ['TX_AMOUNT', 500, 0.2, 0.9],
      ['TX_DURING_NIGHT', 0.5, 0.2, 0.9],
    ];
    const verdict = model(PRIOR, stumps).evaluate({ amount_ref: 900 }, DAY);
    expect(verdict.probability).toBeCloseTo(calibrate(0.55), 12);
    const [amount] = verdict.factors();
    const k = 1 / 9,
      slope = k / (1 - 0.55 + k * 0.55) ** 2;
    expect(amount!.feature).toBe('TX_AMOUNT');
    expect(amount!.contribution).toBeCloseTo(0.175 * slope, 9);
  });
});
