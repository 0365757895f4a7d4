import { describe, expect, it } from 'vitest';
import { aucRoc, averagePrecision, cardPrecisionAtK, prCurve, rocCurve } from '../../models/evaluation/metrics.ts';

describe('AUC ROC', () => {
  it('is 1 for a perfect ranking, 0 for the reverse, 0.5 for all ties', () => {
    expect(aucRoc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(aucRoc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
    expect(aucRoc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
  });
  it('counts tied positive/negative pairs as one half (hand-computed)', () => {
    // positives: 0.8, 0.4 ; negatives: 0.8, 0.3, 0.1
    // pairs: (0.8 vs 0.8) ½, (0.8 vs 0.3) 1, (0.8 vs 0.1) 1, (0.4 vs 0.8) 0, (0.4 vs 0.3) 1, (0.4 vs 0.1) 1 → 4.5 / 6
    expect(aucRoc([0.8, 0.4, 0.8, 0.3, 0.1], [1, 1, 0, 0, 0])).toBeCloseTo(0.75, 12);
  });
  it('matches the trapezoid area under its ROC curve', () => {
    const s = [0.9, 0.7, 0.7, 0.6, 0.5, 0.5, 0.2, 0.1],
      y = [1, 0, 1, 1, 0, 0, 1, 0];
    const { fpr, tpr } = rocCurve(s, y);
    let area = 0;
    for (let i = 1; i < fpr.length; i++) area += ((fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!)) / 2;
    expect(aucRoc(s, y)).toBeCloseTo(area, 12);
    expect(fpr[fpr.length - 1]).toBe(1);
    expect(tpr[tpr.length - 1]).toBe(1);
  });
});

describe('Average Precision', () => {
  it('is the scikit-learn step sum (hand-computed)', () => {
    // ranking: 1(+) 0.8(-) 0.6(+) 0.4(-) 0.2(+): P@1=1 R=1/3, P@3=2/3 R=2/3, P@5=3/5 R=1
    // AP = 1/3·1 + 1/3·2/3 + 1/3·3/5 = 0.7555…
    expect(averagePrecision([1, 0.8, 0.6, 0.4, 0.2], [1, 0, 1, 0, 1])).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 3, 12);
  });
  it('treats tied scores as one threshold', () => {
    // scores 0.9(+), 0.5(+), 0.5(-), 0.1(-): thresholds 0.9 → P=1 R=½ ; 0.5 → P=2/3 R=1 → AP = ½ + ½·2/3
    expect(averagePrecision([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toBeCloseTo(0.5 + 1 / 3, 12);
    const pr = prCurve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect(pr.precision).toEqual([1, 2 / 3, 2 / 4]);
  });
  it('equals the fraud rate for constant scores', () => {
    expect(averagePrecision([0, 0, 0, 0], [1, 0, 0, 0])).toBe(0.25);
  });
});

describe('Card Precision@k', () => {
  it('ranks cards by their highest score, a card is fraud if any transaction is', () => {
    const rows = [
      { day: 0, card: 1, score: 0.2, fraud: 0 },
      { day: 0, card: 1, score: 0.9, fraud: 0 }, // card 1: score 0.9, fraud (next row)
      { day: 0, card: 1, score: 0.1, fraud: 1 },
      { day: 0, card: 2, score: 0.8, fraud: 0 },
      { day: 0, card: 3, score: 0.7, fraud: 1 },
      { day: 0, card: 4, score: 0.3, fraud: 1 },
    ];
    const r = cardPrecisionAtK(rows, 2);
    expect(r.perDay[0]!.precision).toBe(0.5); // top 2: card 1 (fraud), card 2
    expect(r.perDay[0]!.detected).toEqual([1]);
    expect(r.perDay[0]!.compromisedCards).toBe(3);
    expect(cardPrecisionAtK(rows, 3).mean).toBeCloseTo(2 / 3, 12);
    expect(cardPrecisionAtK(rows, 4).mean).toBe(0.75);
  });
  it('removes cards caught on an earlier day from later days (hand-computed)', () => {
    const rows = [
      // day 0: top 2 = card 1 (fraud, caught), card 2 (genuine)
      { day: 0, card: 1, score: 0.9, fraud: 1 },
      { day: 0, card: 2, score: 0.8, fraud: 0 },
      { day: 0, card: 3, score: 0.1, fraud: 1 },
      // day 1: card 1 is gone; top 2 = card 3 (fraud), card 2 → ½ (without removal: card 1, card 3 → 1)
      { day: 1, card: 1, score: 0.99, fraud: 1 },
      { day: 1, card: 3, score: 0.7, fraud: 1 },
      { day: 1, card: 2, score: 0.6, fraud: 0 },
    ];
    const r = cardPrecisionAtK(rows, 2);
    expect(r.perDay.map((d) => d.precision)).toEqual([0.5, 0.5]);
    expect(r.mean).toBe(0.5);
    expect(cardPrecisionAtK(rows, 2, false).perDay.map((d) => d.precision)).toEqual([0.5, 1]);
  });
  it('divides by k even when a day has fewer cards', () => {
    expect(cardPrecisionAtK([{ day: 3, card: 1, score: 1, fraud: 1 }], 100).mean).toBe(0.01);
  });
});
